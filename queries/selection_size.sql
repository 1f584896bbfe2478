-- selection_size: how much of the store a selection holds, to tell an empty database and
-- an empty selection apart from a result.
-- Grain: one row. Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- Tasks are selected by their day; attempts by their UTC date.
-- Needs queries.pricing.register (attempt_spend) on the connection.
with selected_tasks as (
    select count(*) as tasks
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
),

selected_attempts as (
    select coalesce(sum(attempts), 0) as attempts
    from attempt_spend
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
)

select
    (select count(*) from attempts) as attempts_in_store,
    selected_tasks.tasks,
    selected_attempts.attempts
from selected_tasks, selected_attempts
