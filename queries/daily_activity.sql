-- daily_activity: tasks started, attempts made and spend, day by day.
-- Grain: one row per UTC day with at least one task or attempt in the selection.
-- Parameters: $since, $until (inclusive; tasks by their day, attempts by their UTC date),
-- $fleets, $task_types (lists; empty = all).
-- Reads task_rollup (stored, kept by ingest) and attempt_spend (queries.pricing.register).
with daily_tasks as (
    select
        day,
        sum(tasks) as tasks,
        sum(failures) as failures,
        sum(escalated_tasks) as escalated_tasks
    from task_rollup
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by day
),

daily_spend as (
    select
        day,
        sum(attempts) as attempts,
        sum(unpriced_attempts) as unpriced_attempts,
        sum(usd) as usd
    from attempt_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by day
)

select
    day,
    coalesce(t.tasks, 0) as tasks,
    coalesce(t.failures, 0) as failures,
    coalesce(t.escalated_tasks, 0) as escalated_tasks,
    coalesce(s.attempts, 0) as attempts,
    coalesce(s.unpriced_attempts, 0) as unpriced_attempts,
    coalesce(s.usd, 0) as usd
from daily_tasks as t
full outer join daily_spend as s using (day)
order by day
