-- escalation_hotspots: how often each task type's chains climb the ladder, repeat, skip a
-- rung or step down, and how often an escalated task ends ok (failure mode 3).
-- Grain: one row per task type.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
select
    task_type,
    count(*) as tasks,
    count(*) filter (where escalations > 0) as escalated_tasks,
    count(*) filter (where retries > 0) as retried_tasks,
    count(*) filter (where skip_tier_escalations > 0) as skip_tier_tasks,
    coalesce(sum(escalations), 0) as escalations,
    coalesce(sum(retries), 0) as retries,
    coalesce(sum(skip_tier_escalations), 0) as skip_tier_escalations,
    coalesce(sum(step_downs), 0) as step_downs,
    count(*) filter (where escalations > 0 and final_status = 'ok') as rescued_tasks
from tasks
where (cast($since as date) is null or day >= cast($since as date))
  and (cast($until as date) is null or day <= cast($until as date))
  and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
  and (
      len(cast($task_types as varchar[])) = 0
      or list_contains(cast($task_types as varchar[]), task_type)
  )
group by task_type
order by task_type
