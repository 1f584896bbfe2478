-- dashboard_daily_spend: realized spend over time, split the way the cost pages show it.
-- Grain: one row per UTC day (of the attempt) and part, where part is 'final' (executor
-- attempts no later attempt replaced), 'superseded' (executor attempts a later attempt of
-- the same task replaced: the retry and escalation tax), 'planner' or 'reviewer'.
-- Parameters: $since, $until, $fleets, $task_types (on each attempt's own fields, as the
-- reports' spend). Reads attempt_spend and superseded_spend: call queries.pricing.register
-- first. Unpriced attempts are counted, never $0.
with spend as (
    select day, role, sum(attempts) as attempts, sum(unpriced_attempts) as unpriced_attempts,
           sum(usd) as usd
    from attempt_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by day, role
),

superseded as (
    select day, sum(superseded_attempts) as attempts,
           sum(unpriced_superseded_attempts) as unpriced_attempts,
           sum(superseded_usd) as usd
    from superseded_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by day
),

parts as (
    select day, role as part, attempts, unpriced_attempts, usd
    from spend
    where role <> 'executor'
    union all
    select s.day, 'final', s.attempts - coalesce(x.attempts, 0),
           s.unpriced_attempts - coalesce(x.unpriced_attempts, 0), s.usd - coalesce(x.usd, 0)
    from spend as s
    left join superseded as x using (day)
    where s.role = 'executor'
    union all
    select day, 'superseded', attempts, unpriced_attempts, usd
    from superseded
)

select day, part, attempts, usd as cost_usd, unpriced_attempts
from parts
order by day, part
