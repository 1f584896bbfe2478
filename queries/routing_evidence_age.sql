-- routing_evidence_age: how old, and how current, the observations behind each task type's
-- routing are.
-- Grain: one row per task type with at least one selected task.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all); tasks are
-- selected by their day, the model days by each executor call's own date and fields.
-- Reads the rollups the store keeps (ingest/derived.py).
-- routed_tier: the tier the task type was assigned most often (planner tier, else first
-- executed tier; a tie goes to the cheaper tier), as in routing_table. The evidence: the
-- task type's tasks assigned to that tier. as_of: the newest task day in the selection.
-- current_model: the routed tier's dominant model (most executor attempts) on the tier's last
-- day; current_model_since: the day after the last day the tier's dominant model was another
-- one (the tier's first day when it never was). baseline_tier: the tier one rung below the
-- routed one (null for the cheapest), with the task type's tasks assigned to it.
with selected as (
    select task_type, assigned_tier, day, tasks
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

by_assigned as (
    select
        s.task_type,
        s.assigned_tier,
        l.rank as tier_rank,
        sum(s.tasks) as tasks,
        min(s.day) as first_day,
        max(s.day) as last_day
    from selected as s
    join ladder as l on l.name = s.assigned_tier
    group by s.task_type, s.assigned_tier, l.rank
),

routed as (
    select *
    from by_assigned
    qualify row_number() over (partition by task_type order by tasks desc, tier_rank) = 1
),

daily as (
    -- the tier's models by the executor calls' own date, fleet and task type
    select tier, model, day, sum(attempts) as attempts
    from executor_models_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by tier, model, day
),

dominant_daily as (
    select tier, day, model
    from daily
    qualify row_number() over (partition by tier, day order by attempts desc, model) = 1
),

current_model as (
    select
        tier,
        arg_max(model, day) as current_model,
        min(day) as tier_first_day
    from dominant_daily
    group by tier
),

current_since as (
    select
        c.tier,
        c.current_model,
        coalesce(
            max(d.day) filter (where d.model <> c.current_model) + 1, c.tier_first_day
        ) as current_model_since
    from current_model as c
    join dominant_daily as d using (tier)
    group by c.tier, c.current_model, c.tier_first_day
),

on_current_model as (
    select s.task_type, s.assigned_tier, sum(s.tasks) as tasks
    from selected as s
    join current_since as c on c.tier = s.assigned_tier and s.day >= c.current_model_since
    group by s.task_type, s.assigned_tier
)

select
    r.task_type,
    r.assigned_tier as routed_tier,
    r.tasks as evidence_tasks,
    r.first_day as evidence_first_day,
    r.last_day as evidence_last_day,
    (select max(day) from selected) as as_of,
    c.current_model,
    c.current_model_since,
    coalesce(o.tasks, 0) as tasks_on_current_model,
    bl.name as baseline_tier,
    coalesce(b.tasks, 0) as baseline_tasks,
    b.last_day as baseline_last_day
from routed as r
left join current_since as c on c.tier = r.assigned_tier
left join on_current_model as o
    on o.task_type = r.task_type and o.assigned_tier = r.assigned_tier
left join ladder as bl on bl.rank = r.tier_rank - 1
left join by_assigned as b on b.task_type = r.task_type and b.assigned_tier = bl.name
order by r.task_type
