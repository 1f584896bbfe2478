-- dashboard_daily_tasks: the dashboard's task time series (tasks, failures, escalations).
-- Grain: one row per day, planner tier and first executed tier with at least one task.
-- Parameters: $since, $until, $fleets, $task_types (queries.Filters.params()).
-- Reads task_rollup (stored, kept by every ingest: ingest/task_rollup.sql), the rollup of
-- the tasks. planner_tier is '(not given)' for tasks without one; day is the UTC day of the
-- task's first executor attempt, as in every task-level report.
select
    r.day,
    coalesce(p.name, '(not given)') as planner_tier,
    f.name as first_tier,
    sum(r.tasks) as tasks,
    sum(r.failures) as failed,
    sum(r.first_pass_failures) as first_pass_failed,
    sum(r.escalated_tasks) as escalated,
    sum(r.skip_tier_tasks) as skip_tier
from task_rollup as r
left join ladder as p on p.rank = r.planner_rank
join ladder as f on f.rank = r.first_rank
where in_selection(r.day, r.fleet, r.task_type, $since, $until, $fleets, $task_types)
group by all
order by r.day, planner_tier, first_tier
