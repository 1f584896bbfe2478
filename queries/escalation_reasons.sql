-- escalation_reasons: why the attempts after the first of each chain were made (retries and
-- escalations alike), as logged in escalation_reason.
-- Grain: one row per task type and reason.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads escalation_reason_rollup (kept in the store).
select task_type, reason, sum(attempts) as attempts
from escalation_reason_rollup
where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
group by all
order by task_type, reason
