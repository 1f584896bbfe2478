-- whatif_task_types: each task type's volume, its realized outcomes and the tier the
-- planner sent it to first most often (the routing table the fleet runs), what the what-if
-- compares a proposed table against.
-- Grain: one row per task type.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all). Reads chain_shapes (kept in the store) and ladder.
with selected as (
    select *
    from chain_shapes
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

first_tiers as (
    select task_type, tier_path[1] as tier, sum(tasks) as tasks
    from selected
    group by all
)

select
    s.task_type,
    sum(s.tasks) as tasks,
    sum(s.tasks) filter (where s.first_pass_failed) as first_pass_failures,
    sum(s.tasks) filter (where not s.accepted) as final_failures,
    sum(s.tasks) filter (where s.accepted and s.downstream_failure) as downstream_failures,
    sum(s.tasks) filter (where s.failed) as failures,
    (
        select arg_max(f.tier, f.tasks * 1000 - l.rank)
        from first_tiers as f
        join ladder as l on l.name = f.tier
        where f.task_type = s.task_type
    ) as observed_tier
from selected as s
group by s.task_type
order by s.task_type
