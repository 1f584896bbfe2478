-- escalation_reasons: why the attempts after the first of each chain were made (retries and
-- escalations alike), as logged in escalation_reason.
-- Grain: one row per task type and reason.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads escalation_reason_rollup (queries.ensure_table).
select task_type, reason, sum(attempts) as attempts
from escalation_reason_rollup
where (cast($since as date) is null or day >= cast($since as date))
  and (cast($until as date) is null or day <= cast($until as date))
  and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
  and (
      len(cast($task_types as varchar[])) = 0
      or list_contains(cast($task_types as varchar[]), task_type)
  )
group by all
order by task_type, reason
