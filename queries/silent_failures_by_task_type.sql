-- silent_failures_by_task_type: tasks accepted with high confidence that a later step found
-- wrong (failure mode 2, silent complexity underestimation).
-- Grain: one row per task type with at least one selected task, most silent failures first.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all), on the task's
-- day, fleet and type. Reads the rollups the store keeps.
-- A silent failure: the task's accepted (last) attempt said ok with confidence >= 0.8 (or
-- `high`) and a downstream failure was reported for the task (tasks.silent_failure).
-- high_confidence_accepted counts the tasks whose accepted attempt was ok with confidence
-- >= 0.8 (the tasks that could fail silently); example_task_ids: the first three by id
-- (silent_failure_examples keeps the first three of each day, task type and fleet).
with selected as (
    select *
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

per_type as (
    select
        task_type,
        sum(tasks) as tasks,
        coalesce(sum(tasks) filter (where accepted and high_confidence), 0)
            as high_confidence_accepted,
        coalesce(sum(tasks) filter (where silent_failure), 0) as silent_failures
    from selected
    group by task_type
),

by_tier as (
    select task_type, final_tier, sum(tasks) as silent_failures
    from selected
    where silent_failure
    group by task_type, final_tier
),

tier_counts as (
    select
        b.task_type,
        map_from_entries(list((b.final_tier, b.silent_failures) order by l.rank)) as by_final_tier
    from by_tier as b
    join ladder as l on l.name = b.final_tier
    group by b.task_type
),

examples as (
    select task_type, list(task_id order by task_id)[1:3] as example_task_ids
    from silent_failure_examples
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by task_type
)

select
    p.task_type,
    p.tasks,
    p.high_confidence_accepted,
    p.silent_failures,
    e.example_task_ids,
    t.by_final_tier
from per_type as p
left join tier_counts as t using (task_type)
left join examples as e using (task_type)
order by p.silent_failures desc, p.silent_failures / p.tasks desc, p.task_type
