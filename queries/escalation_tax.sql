-- escalation_tax: spend on executor attempts that a later attempt of the same task
-- superseded (retries and escalations), against all spend (every role).
-- Grain: $grain = 'task_type': one row per task type (day null), for the escalations
-- report; $grain = 'day': one row per UTC day (task_type null), for its chart per day.
-- escalation_tax = superseded_usd / spend_usd, null when the spend is $0.
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (lists, on each attempt's own fields; empty = all), $grain.
-- Reads attempt_spend and superseded_spend (queries.pricing).
with spend as (
    select day, task_type, sum(usd) as spend_usd, sum(unpriced_attempts) as unpriced_attempts
    from attempt_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by day, task_type
),

superseded as (
    select
        day,
        task_type,
        sum(superseded_attempts) as superseded_attempts,
        sum(superseded_usd) as superseded_usd
    from superseded_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by day, task_type
),

grains as (
    select
        case when grouping(s.day) = 0 then 'day' else 'task_type' end as grain,
        s.day,
        s.task_type,
        sum(s.spend_usd) as spend_usd,
        sum(s.unpriced_attempts) as unpriced_attempts,
        sum(coalesce(x.superseded_attempts, 0)) as superseded_attempts,
        sum(coalesce(x.superseded_usd, 0)) as superseded_usd
    from spend as s
    left join superseded as x using (day, task_type)
    group by grouping sets ((s.task_type), (s.day))
)

select
    day,
    task_type,
    spend_usd,
    unpriced_attempts,
    superseded_attempts,
    superseded_usd,
    case when spend_usd > 0 then superseded_usd / spend_usd end as escalation_tax
from grains
where grain = $grain
order by task_type, day
