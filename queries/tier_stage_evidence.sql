-- tier_stage_evidence: what each tier did with each task type, the evidence of the what-if
-- simulator. A task's chain is cut into stages, one per run of consecutive attempts on one
-- tier: its first stage is entered first (entry 'first'), a later stage on a higher tier by
-- escalation (entry 'escalated'); a stage on a lower tier than the one before it (a step
-- down) is left out. A stage fails unless it is the chain's last and the task was accepted.
-- Grain: one row per task type x tier x entry.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all). Reads chain_shapes (kept in the store) and ladder.
with shapes as (
    select
        row_number() over () as shape,
        task_type,
        tier_path,
        accepted,
        downstream_failure,
        tasks
    from (
        select task_type, tier_path, accepted, downstream_failure, sum(tasks) as tasks
        from chain_shapes
        where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
        group by all
    )
),

steps as (
    select
        s.shape,
        s.task_type,
        s.accepted,
        s.downstream_failure,
        s.tasks,
        len(s.tier_path) as path_length,
        u.step,
        u.tier
    from shapes as s,
        unnest(s.tier_path) with ordinality as u(tier, step)
),

ranked as (
    select
        steps.*,
        l.rank,
        lag(l.rank) over (partition by shape order by step) as previous_rank
    from steps
    join ladder as l on l.name = steps.tier
),

numbered as (
    select
        *,
        sum(case when previous_rank is distinct from rank then 1 else 0 end)
            over (partition by shape order by step) as stage
    from ranked
),

stages as (
    select
        shape,
        stage,
        any_value(task_type) as task_type,
        any_value(tier) as tier,
        any_value(tasks) as tasks,
        count(*) as attempts,
        max(step) = any_value(path_length) as last_stage,
        any_value(accepted) as accepted,
        any_value(downstream_failure) as downstream_failure,
        -- the rank of the attempt before the stage (null for the first stage)
        min(previous_rank) filter (where previous_rank is distinct from rank) as entered_from,
        any_value(rank) as rank
    from numbered
    group by shape, stage
)

select
    task_type,
    tier,
    rank as tier_rank,
    case when stage = 1 then 'first' else 'escalated' end as entry,
    sum(tasks) as stages,
    sum(tasks * attempts) as attempts,
    sum(tasks) filter (where not (last_stage and accepted)) as failures,
    -- the stage's first attempt failed: the stage failed, or was retried on its tier
    sum(tasks) filter (where attempts > 1 or not (last_stage and accepted)) as first_try_failures,
    sum(tasks) filter (where last_stage and accepted) as accepted,
    sum(tasks) filter (where last_stage and accepted and downstream_failure) as downstream_failures
from stages
where stage = 1 or entered_from < rank
group by all
order by task_type, tier_rank, entry
