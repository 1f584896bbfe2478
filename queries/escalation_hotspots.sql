-- escalation_hotspots: how often each task type's chains climb the ladder, repeat, skip a
-- rung or step down, and how often an escalated task ends ok (failure mode 3).
-- Grain: one row per task type.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads task_rollup (queries.ensure_table).
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
where (cast($since as date) is null or day >= cast($since as date))
  and (cast($until as date) is null or day <= cast($until as date))
  and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
  and (
      len(cast($task_types as varchar[])) = 0
      or list_contains(cast($task_types as varchar[]), task_type)
  )
group by task_type
order by task_type
