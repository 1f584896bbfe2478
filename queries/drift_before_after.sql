-- drift_before_after: failure and escalation per task type before and after each change of a
-- tier's model version (failure mode 1, routing-table staleness).
-- Grain: one row per model change x task type with tasks assigned to the changed tier in
-- either window.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all); tasks are
-- selected by their day, the model days by each executor call's own date and fields.
-- Reads the rollups the store keeps (ingest/derived.py).
-- A change: the tier's dominant model (the one that ran the most of its executor attempts on
-- a day, as in model_versions) switches to a model that had not been dominant before; `at`
-- is the first day the new model was dominant. Before = tasks from the previous change (or
-- the start) up to the day before `at`; after = tasks from `at` up to the day before the
-- next change (or the end). A task belongs to the tier it was assigned: its planner tier,
-- else its first executed tier.
with selected as (
    select task_type, assigned_tier, day, failed, first_pass_failed, escalated, tasks
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

daily as (
    -- the tier's models by the executor calls' own date, fleet and task type
    select tier, model, day, sum(attempts) as attempts
    from executor_models_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by tier, model, day
),

dominant as (
    select tier, model, min(day) as dominant_since
    from (
        select tier, model, day,
               row_number() over (partition by tier, day order by attempts desc, model) as pick
        from daily
    )
    where pick = 1
    group by tier, model
),

changes as (
    select
        tier,
        lag(model) over w as from_model,
        model as to_model,
        dominant_since as at,
        lag(dominant_since) over w as window_start,
        lead(dominant_since) over w as window_end
    from dominant
    window w as (partition by tier order by dominant_since, model)
),

compared as (
    select
        c.tier,
        c.from_model,
        c.to_model,
        c.at,
        s.task_type,
        s.day >= c.at as after,
        s.failed,
        s.first_pass_failed,
        s.escalated,
        s.tasks
    from changes as c
    join selected as s
        on s.assigned_tier = c.tier
        and (c.window_start is null or s.day >= c.window_start)
        and (c.window_end is null or s.day < c.window_end)
    where c.from_model is not null
)

select
    c.tier,
    l.rank as tier_rank,
    c.from_model,
    c.to_model,
    c.at,
    c.task_type,
    coalesce(sum(c.tasks) filter (where not c.after), 0) as before_tasks,
    coalesce(sum(c.tasks) filter (where not c.after and c.failed), 0) as before_failures,
    coalesce(sum(c.tasks) filter (where not c.after and c.first_pass_failed), 0)
        as before_first_pass_failures,
    coalesce(sum(c.tasks) filter (where not c.after and c.escalated), 0) as before_escalated,
    coalesce(sum(c.tasks) filter (where c.after), 0) as after_tasks,
    coalesce(sum(c.tasks) filter (where c.after and c.failed), 0) as after_failures,
    coalesce(sum(c.tasks) filter (where c.after and c.first_pass_failed), 0)
        as after_first_pass_failures,
    coalesce(sum(c.tasks) filter (where c.after and c.escalated), 0) as after_escalated
from compared as c
join ladder as l on l.name = c.tier
group by c.tier, l.rank, c.from_model, c.to_model, c.at, c.task_type
order by c.at, l.rank, c.task_type
