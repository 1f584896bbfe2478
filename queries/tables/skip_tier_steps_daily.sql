-- skip_tier_steps_daily: escalation steps that jump two or more rungs, per day (a temp
-- table, created by queries.rollups.register; skip_tier_escalations reads it).
-- Grain: one row per task day x fleet x task type x step (from tier, to tier) that skips a
-- rung, with the steps and the tasks that took them.
-- Parameters: none.
create or replace temp table skip_tier_steps_daily as
with steps as (
    select
        task_id,
        day,
        fleet,
        task_type,
        tier_path[i] as from_tier,
        tier_path[i + 1] as to_tier
    from (
        select task_id, day, fleet, task_type, tier_path, unnest(range(1, len(tier_path))) as i
        from tasks
        where skip_tier_escalations > 0
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
