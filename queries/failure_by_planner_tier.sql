-- failure_by_planner_tier: how tasks went per planner-assigned tier and per executed
-- (first) tier, overall and per task type (failure mode 4, planner overconfidence).
-- Grain: one row per grouping (`grouped_by` = 'planner_tier' or 'executed_tier'), tier,
-- and task type (`per_task_type` false: all task types together, task_type null).
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all). Tasks without a planner tier are labelled '(not given)'.
-- Reads task_rollup (stored, kept by ingest).
with task_groups as (
    select
        r.task_type,
        coalesce(p.name, '(not given)') as planner_label,
        coalesce(p.rank, 1000000) as planner_rank,
        f.name as first_tier,
        f.rank as first_tier_rank,
        r.tasks,
        r.first_pass_failures,
        r.failures,
        r.downstream_failures,
        r.escalated_tasks
    from task_rollup as r
    left join ladder as p on p.rank = r.planner_rank
    join ladder as f on f.rank = r.first_rank
    where in_selection(r.day, r.fleet, r.task_type, $since, $until, $fleets, $task_types)
),

by_planner as (
    select
        'planner_tier' as grouped_by,
        planner_label as tier,
        planner_rank as tier_rank,
        grouping(task_type) = 0 as per_task_type,
        task_type,
        sum(tasks) as tasks,
        sum(first_pass_failures) as first_pass_failures,
        sum(failures) as failures,
        sum(downstream_failures) as downstream_failures,
        sum(escalated_tasks) as escalated_tasks
    from task_groups
    group by grouping sets ((planner_label, planner_rank), (task_type, planner_label, planner_rank))
),

by_executed as (
    select
        'executed_tier' as grouped_by,
        first_tier as tier,
        first_tier_rank as tier_rank,
        grouping(task_type) = 0 as per_task_type,
        task_type,
        sum(tasks) as tasks,
        sum(first_pass_failures) as first_pass_failures,
        sum(failures) as failures,
        sum(downstream_failures) as downstream_failures,
        sum(escalated_tasks) as escalated_tasks
    from task_groups
    group by grouping sets ((first_tier, first_tier_rank), (task_type, first_tier, first_tier_rank))
)

select * from by_planner
union all
select * from by_executed
order by grouped_by, per_task_type, task_type, tier_rank
