-- skip_tier_steps_daily: escalation steps that jump two or more rungs, per day, kept in the
-- store (ingest/derived.py); skip_tier_escalations reads it.
-- Grain: one row per task day x fleet x task type x step (from tier, to tier) that skips a
-- rung, with the steps and the tasks that took them.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the tasks in scope (tasks_in_scope), which ingest/derived.py prepares.
with steps as (
    select
        task_id,
        day,
        fleet,
        task_type,
        tier_path[i] as from_tier,
        tier_path[i + 1] as to_tier
    from (
        select t.task_id, t.day, t.fleet, t.task_type, t.tier_path,
            unnest(range(1, array_length(t.tier_path))) as i
        from tasks_in_scope as t
        semi join rollup_keys as k
            on k.day = t.day and k.task_type = t.task_type
           and k.fleet is not distinct from t.fleet
        where t.skip_tier_escalations > 0
    )
)

select
    s.day,
    s.fleet,
    s.task_type,
    s.from_tier,
    s.to_tier,
    count(*) as steps,
    count(distinct s.task_id) as tasks
from steps as s
join ladder as lf on lf.name = s.from_tier
join ladder as lt on lt.name = s.to_tier
where lt.rank >= lf.rank + 2
group by all
