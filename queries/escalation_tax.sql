-- escalation_tax: spend on executor attempts that a later attempt of the same task
-- superseded (retries and escalations), against all spend, per task type.
-- Grain: one row per task type.
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (lists, on each attempt's own fields; empty = all).
-- Reads attempt_spend and superseded_spend (queries.pricing).
with spend as (
    select task_type, sum(usd) as spend_usd, sum(unpriced_attempts) as unpriced_attempts
    from attempt_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by task_type
),

superseded as (
    select
        task_type,
        sum(superseded_attempts) as superseded_attempts,
        sum(superseded_usd) as superseded_usd
    from superseded_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by task_type
)

select
    s.task_type,
    s.spend_usd,
    s.unpriced_attempts,
    coalesce(x.superseded_attempts, 0) as superseded_attempts,
    coalesce(x.superseded_usd, 0) as superseded_usd
from spend as s
left join superseded as x using (task_type)
order by s.task_type
