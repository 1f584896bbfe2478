-- silent_failures_by_task_type: tasks accepted with high confidence that a later step found
-- wrong (failure mode 2, silent complexity underestimation).
-- Grain: one row per task type with at least one selected task, most silent failures first.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- A silent failure: the task's accepted (last) attempt said ok with confidence >= 0.8 (or
-- `high`) and a downstream failure was reported for the task (tasks.silent_failure).
-- rate = silent failures / tasks of the type; high_confidence_accepted counts the tasks whose
-- accepted attempt was ok with confidence >= 0.8 (the tasks that could fail silently).
with selected as (
    select task_id, task_type, final_tier, final_status, final_confidence, silent_failure
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

by_tier as (
    select task_type, final_tier, count(*) as silent_failures
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
)

select
    s.task_type,
    count(*) as tasks,
    count(*) filter (where s.final_status = 'ok' and s.final_confidence >= 0.8)
        as high_confidence_accepted,
    count(*) filter (where s.silent_failure) as silent_failures,
    list(s.task_id order by s.task_id) filter (where s.silent_failure)[1:3] as example_task_ids,
    t.by_final_tier
from selected as s
left join tier_counts as t using (task_type)
group by s.task_type, t.by_final_tier
order by silent_failures desc, silent_failures / count(*) desc, s.task_type
