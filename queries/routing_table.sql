-- The resulting routing table: which tier each task type goes to, from the data and the flags.
-- Grain: one row per task type with at least one task in the selection.
-- Parameters: $since, $until (dates, inclusive; null = open), $fleets, $task_types (lists of
-- strings; empty = all), as queries.Filters.params() gives them. Reads task_outcomes_daily
-- (a rollup the store keeps, ingest/derived.py).
-- observed_tier: the tier the planner assigned most often in the selection (a task without a
-- planner tier counts its first executed tier; a tie goes to the cheaper tier).
-- routed_tier: the target tier of the task type's current flag, else observed_tier.
with selected as (
    -- the rollup of the tasks the store keeps (task_outcomes_daily)
    select task_type, assigned_tier, failed, day, tasks
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

by_type as (
    select
        task_type,
        sum(tasks) as tasks,
        coalesce(sum(tasks) filter (where failed), 0) as failures,
        max(day) as last_day
    from selected
    group by task_type
),

by_assigned_tier as (
    select
        s.task_type,
        s.assigned_tier,
        sum(s.tasks) as tasks,
        coalesce(sum(s.tasks) filter (where s.failed), 0) as failures,
        row_number() over (
            partition by s.task_type order by sum(s.tasks) desc, min(l.rank)
        ) as pick
    from selected as s
    join ladder as l on l.name = s.assigned_tier
    group by s.task_type, s.assigned_tier
),

latest_flag as (
    select task_type, action, target_tier, reason, note, flagged_by, flagged_at
    from flags
    qualify row_number() over (
        partition by task_type order by flagged_at desc, flag_id desc
    ) = 1
),

current_flag as (
    select * from latest_flag where action = 'flag'
)

select
    t.task_type,
    o.assigned_tier as observed_tier,
    coalesce(f.target_tier, o.assigned_tier) as routed_tier,
    case when f.task_type is null then 'observed' else 'flag' end as source,
    t.tasks,
    o.tasks as observed_tier_tasks,
    t.failures,
    o.failures as observed_tier_failures,
    t.last_day,
    f.reason as flag_reason,
    f.note as flag_note,
    f.flagged_by,
    f.flagged_at
from by_type as t
join by_assigned_tier as o on o.task_type = t.task_type and o.pick = 1
left join current_flag as f on f.task_type = t.task_type
order by t.tasks desc, t.task_type
