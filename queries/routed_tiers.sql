-- routed_tiers: the tier each task type is routed to, with its tasks, for the verdict's
-- heterogeneity (the same rule as routing_table, read from the task rollup).
-- Grain: one row per task type with at least one selected task.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- Reads the rollups the store keeps (ingest/derived.py).
-- routed_tier: the target tier of the task type's current flag, else the tier it was assigned
-- most often (planner tier, else first executed tier; a tie goes to the cheaper tier).
with selected as (
    select task_type, assigned_tier, tasks
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

by_assigned as (
    select s.task_type, s.assigned_tier, l.rank, sum(s.tasks) as tasks
    from selected as s
    join ladder as l on l.name = s.assigned_tier
    group by s.task_type, s.assigned_tier, l.rank
),

observed as (
    select task_type, assigned_tier
    from by_assigned
    qualify row_number() over (partition by task_type order by tasks desc, rank) = 1
),

current_flag as (
    select task_type, action, target_tier
    from flags
    qualify row_number() over (partition by task_type order by flagged_at desc, flag_id desc) = 1
)

select
    o.task_type,
    coalesce(f.target_tier, o.assigned_tier) as routed_tier,
    (select sum(tasks) from by_assigned as b where b.task_type = o.task_type) as tasks
from observed as o
left join current_flag as f on f.task_type = o.task_type and f.action = 'flag'
order by o.task_type
