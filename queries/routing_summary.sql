-- routing_summary: how many tasks the selection holds and how they went.
-- Grain: one row (the whole selection of tasks).
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads task_rollup (stored, kept by ingest).
select
    coalesce(sum(tasks), 0) as tasks,
    count(distinct task_type) as task_types,
    coalesce(sum(executor_attempts), 0) as executor_attempts,
    coalesce(sum(failures), 0) as failures,
    coalesce(sum(first_pass_failures), 0) as first_pass_failures,
    coalesce(sum(downstream_failures), 0) as downstream_failures,
    coalesce(sum(escalated_tasks), 0) as escalated_tasks,
    coalesce(sum(tasks) filter (where planner_rank = 0), 0) as tasks_without_planner_tier,
    min(day) as first_task_day,
    max(day) as last_task_day
from task_rollup
where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
