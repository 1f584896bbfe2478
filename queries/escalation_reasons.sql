-- escalation_reasons: why the attempts after the first of each chain were made (retries and
-- escalations alike), as logged in escalation_reason.
-- Grain: one row per task type and reason.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
with retried_or_escalated as (
    select task_type, escalation_reasons
    from tasks
    where n_attempts > 1
      and (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
)

select task_type, reason, count(*) as attempts
from (select task_type, unnest(escalation_reasons) as reason from retried_or_escalated)
group by all
order by task_type, reason
