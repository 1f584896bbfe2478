-- escalation_hotspots: how often each task type's chains climb the ladder, repeat, skip a
-- rung or step down, and how often an escalated task ends ok (failure mode 3).
-- Grain: one row per task type.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads task_rollup (stored, kept by ingest).
select
    task_type,
    sum(tasks) as tasks,
    sum(escalated_tasks) as escalated_tasks,
    sum(retried_tasks) as retried_tasks,
    sum(skip_tier_tasks) as skip_tier_tasks,
    sum(escalations) as escalations,
    sum(retries) as retries,
    sum(skip_tier_escalations) as skip_tier_escalations,
    sum(step_downs) as step_downs,
    sum(rescued_tasks) as rescued_tasks
from task_rollup
where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
group by task_type
order by task_type
