-- routing_summary: how many tasks the selection holds and how they went.
-- Grain: one row (the whole selection of tasks).
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
with selected as (
    select *
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
)

select
    count(*) as tasks,
    count(distinct task_type) as task_types,
    coalesce(sum(n_attempts), 0) as executor_attempts,
    count(*) filter (where failed) as failures,
    count(*) filter (where first_pass_failed) as first_pass_failures,
    count(*) filter (where downstream_failure) as downstream_failures,
    count(*) filter (where escalations > 0) as escalated_tasks,
    count(*) filter (where planner_tier is null) as tasks_without_planner_tier,
    min(day) as first_task_day,
    max(day) as last_task_day
from selected
