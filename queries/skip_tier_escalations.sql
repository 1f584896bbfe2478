-- skip_tier_escalations: escalation steps that jump two or more rungs (Haiku -> Opus), the
-- evidence for fix_escalation_path recommendations (failure mode 3).
-- Grain: one row per task type x step (from tier, to tier) that skips a rung, with the task
-- type's escalated tasks for a denominator.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- Reads the rollups the store keeps (ingest/derived.py).
-- skip_tier_tasks: tasks with at least one such step (a task with two different skips counts
-- in both rows); steps: the steps themselves; next_tier: the rung the step skipped first.
with escalated as (
    select task_type, coalesce(sum(tasks) filter (where escalated), 0) as escalated_tasks
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by task_type
),

steps as (
    select task_type, from_tier, to_tier, sum(steps) as steps, sum(tasks) as skip_tier_tasks
    from skip_tier_steps_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by task_type, from_tier, to_tier
)

select
    s.task_type,
    s.from_tier,
    s.to_tier,
    lf.rank as from_rank,
    lt.rank as to_rank,
    mid.name as next_tier,
    s.steps,
    s.skip_tier_tasks,
    e.escalated_tasks
from steps as s
join ladder as lf on lf.name = s.from_tier
join ladder as lt on lt.name = s.to_tier
join ladder as mid on mid.rank = lf.rank + 1
join escalated as e using (task_type)
order by s.task_type, lf.rank, lt.rank
