-- retiering_by_assigned_tier: how a task type does when it is sent to each tier, the
-- evidence for tier_up and tier_down_candidate recommendations.
-- Grain: one row per task type x assigned tier (planner tier, else first executed tier).
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- escalated: tasks with at least one escalation; failed: last attempt not ok or a downstream
-- failure; handled: neither (the assigned tier did the job without help); quality_failures:
-- tasks whose first or last attempt was rejected by a check (status failed, not a call
-- error) or that failed downstream.
with selected as (
    select
        task_type,
        coalesce(planner_tier, first_tier) as assigned_tier,
        escalations > 0 as escalated,
        failed,
        downstream_failure,
        first_status = 'failed' or final_status = 'failed' or downstream_failure as quality_failed
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
)

select
    s.task_type,
    s.assigned_tier,
    l.rank as tier_rank,
    count(*) as tasks,
    count(*) filter (where s.escalated) as escalated,
    count(*) filter (where s.failed) as failed,
    count(*) filter (where s.downstream_failure) as downstream_failures,
    count(*) filter (where not s.escalated and not s.failed) as handled,
    count(*) filter (where s.quality_failed) as quality_failures
from selected as s
join ladder as l on l.name = s.assigned_tier
group by s.task_type, s.assigned_tier, l.rank
order by s.task_type, l.rank
