-- retiering_by_assigned_tier: how a task type does when it is sent to each tier, the
-- evidence for tier_up and tier_down_candidate recommendations.
-- Grain: one row per task type x assigned tier (planner tier, else first executed tier).
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- Reads the rollups the store keeps (ingest/derived.py).
-- escalated: tasks with at least one escalation; failed: last attempt not ok or a downstream
-- failure; handled: neither (the assigned tier did the job without help); quality_failures:
-- tasks whose first or last attempt was rejected by a check (status failed, not a call
-- error) or that failed downstream.
with selected as (
    select *
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
)

select
    s.task_type,
    s.assigned_tier,
    l.rank as tier_rank,
    sum(s.tasks) as tasks,
    coalesce(sum(s.tasks) filter (where s.escalated), 0) as escalated,
    coalesce(sum(s.tasks) filter (where s.failed), 0) as failed,
    coalesce(sum(s.tasks) filter (where s.downstream_failure), 0) as downstream_failures,
    coalesce(sum(s.tasks) filter (where not s.escalated and not s.failed), 0) as handled,
    coalesce(sum(s.tasks) filter (where s.quality_failed), 0) as quality_failures
from selected as s
join ladder as l on l.name = s.assigned_tier
group by s.task_type, s.assigned_tier, l.rank
order by s.task_type, l.rank
