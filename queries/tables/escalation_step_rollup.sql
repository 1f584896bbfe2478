-- escalation_step_rollup: every step up the ladder between consecutive executor attempts,
-- read from the escalated tasks' tier paths once per connection (a temp table built by
-- queries.ensure_table).
-- Grain: one row per day (the task's), task type, fleet, from-tier and to-tier.
-- Parameters: none.
create or replace temp table escalation_step_rollup as
with steps as (
    select
        day,
        task_type,
        fleet,
        tier_path[i] as from_tier,
        tier_path[i + 1] as to_tier
    from (
        select day, task_type, fleet, tier_path, unnest(range(1, len(tier_path))) as i
        from tasks
        where escalations > 0
    )
)

select s.day, s.task_type, s.fleet, s.from_tier, s.to_tier, count(*) as steps
from steps as s
join ladder as f on f.name = s.from_tier
join ladder as t on t.name = s.to_tier
where t.rank > f.rank
group by all
