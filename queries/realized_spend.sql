-- realized_spend: what the selection's model calls cost, by task type and role
-- (planner and reviewer calls are routing overhead).
-- Grain: one row per task type and role.
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (lists, on each attempt's own fields; empty = all).
-- Needs queries.pricing.register (attempt_spend) on the connection.
select
    task_type,
    role,
    sum(attempts) as attempts,
    sum(unpriced_attempts) as unpriced_attempts,
    sum(usd) as usd,
    min(day) as first_day,
    max(day) as last_day
from attempt_spend
where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
group by task_type, role
order by task_type, role
