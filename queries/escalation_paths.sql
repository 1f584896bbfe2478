-- escalation_paths: every step up the ladder between consecutive executor attempts
-- (`haiku->sonnet`, `haiku->opus`, ...), read from each escalated task's tier path.
-- Grain: one row per task type, from-tier and to-tier.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads escalation_step_rollup (kept in the store).
select task_type, from_tier, to_tier, sum(steps) as steps
from escalation_step_rollup
where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
group by all
order by task_type, from_tier, to_tier
