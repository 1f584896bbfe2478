-- dashboard_daily_tasks: the dashboard's task time series (tasks, failures, escalations).
-- Grain: one row per day, planner tier and first executed tier with at least one task.
-- Parameters: $since, $until, $fleets, $task_types (queries.Filters.params()).
-- planner_tier is '(not given)' for tasks without one; day is the UTC day of the task's
-- first executor attempt, as in every task-level report.
with selected as (
    select *
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
)

select
    day,
    coalesce(planner_tier, '(not given)') as planner_tier,
    first_tier,
    count(*) as tasks,
    count(*) filter (where failed) as failed,
    count(*) filter (where first_pass_failed) as first_pass_failed,
    count(*) filter (where escalations > 0) as escalated,
    count(*) filter (where skip_tier_escalations > 0) as skip_tier,
    count(*) filter (where silent_failure) as silent_failures
from selected
group by all
order by day, planner_tier, first_tier
