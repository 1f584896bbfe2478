-- routing_verdict: the quality-signal facts behind the verdict (should this fleet route?).
-- Grain: one row (the whole selection of tasks).
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all); tasks by their
-- day, reviewer calls by their own date and fields. Reads the rollups the store keeps.
-- A quality check is a property of a pipeline step, so it is counted per task type: a task
-- type has one when the selection holds reviewer calls on it, a first or last attempt
-- rejected by a check (status failed), or a downstream failure report for one of its tasks.
-- tasks_with_outcome: tasks of a type with a quality check.
-- tasks_with_confidence: tasks whose accepted (last) attempt carries a confidence.
with selected as (
    select *
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

reviewed_types as (
    select distinct task_type
    from attempt_usage
    where role = 'reviewer'
      and in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

per_type as (
    select
        task_type,
        sum(tasks) as tasks,
        coalesce(sum(tasks) filter (where has_confidence), 0) as with_confidence,
        bool_or(quality_failed) as checked
    from selected
    group by task_type
)

select
    coalesce(sum(p.tasks), 0) as tasks,
    coalesce(sum(p.tasks) filter (where p.checked or r.task_type is not null), 0)
        as tasks_with_outcome,
    count(*) filter (where p.checked or r.task_type is not null) as checked_task_types,
    count(*) as task_types,
    coalesce(sum(p.with_confidence), 0) as tasks_with_confidence
from per_type as p
left join reviewed_types as r using (task_type)
