-- escalation_paths: every step up the ladder between consecutive executor attempts
-- (`haiku->sonnet`, `haiku->opus`, ...), read from each escalated task's tier path.
-- Grain: one row per task type, from-tier and to-tier.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads escalation_step_rollup (queries.ensure_table).
select task_type, from_tier, to_tier, sum(steps) as steps
from escalation_step_rollup
where (cast($since as date) is null or day >= cast($since as date))
  and (cast($until as date) is null or day <= cast($until as date))
  and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
  and (
      len(cast($task_types as varchar[])) = 0
      or list_contains(cast($task_types as varchar[]), task_type)
  )
group by all
order by task_type, from_tier, to_tier
