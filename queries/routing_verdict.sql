-- routing_verdict: the quality-signal facts behind the verdict (should this fleet route?).
-- Grain: one row (the whole selection of tasks).
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- tasks_with_outcome: tasks with an outcome beyond the executor's own word: a reviewer call
-- on the task, a first or last attempt rejected by a check (status failed), or a task type
-- for which the selection holds downstream failure reports (a downstream check exists).
-- tasks_with_confidence: tasks whose accepted (last) attempt carries a confidence.
with selected as (
    select task_id, task_type, first_status, final_status, final_confidence, downstream_failure
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

reviewed as (
    select distinct task_id
    from attempts
    where role = 'reviewer'
),

checked_downstream as (
    select distinct task_type
    from selected
    where downstream_failure
)

select
    count(*) as tasks,
    count(*) filter (
        where r.task_id is not null
           or s.first_status = 'failed'
           or s.final_status = 'failed'
           or c.task_type is not null
    ) as tasks_with_outcome,
    count(*) filter (where r.task_id is not null) as reviewed_tasks,
    count(*) filter (where s.final_confidence is not null) as tasks_with_confidence
from selected as s
left join reviewed as r using (task_id)
left join checked_downstream as c using (task_type)
