-- selection_size: how much of the store a selection holds, to tell an empty database and
-- an empty selection apart from a result.
-- Grain: one row. Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- Tasks are selected by their day; attempts by their UTC date. Reads the rollups the store
-- keeps (a store served from a lake holds no attempts, only their rollups).
with selected_tasks as (
    select coalesce(sum(tasks), 0) as tasks
    from task_rollup
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

selected_attempts as (
    select coalesce(sum(attempts), 0) as attempts
    from attempt_usage
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
)

select
    (select coalesce(sum(attempts), 0) from attempt_usage) as attempts_in_store,
    selected_tasks.tasks,
    selected_attempts.attempts
from selected_tasks, selected_attempts
