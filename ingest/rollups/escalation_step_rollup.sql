-- escalation_step_rollup: every step up the ladder between consecutive executor attempts,
-- read from the escalated tasks' tier paths, kept in the store (ingest/derived.py).
-- Grain: one row per day (the task's), task type, fleet, from-tier and to-tier.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the tasks in scope (tasks_in_scope), which ingest/derived.py prepares.
with steps as (
    select
        day,
        task_type,
        fleet,
        tier_path[i] as from_tier,
        tier_path[i + 1] as to_tier
    from (
        select t.day, t.task_type, t.fleet, t.tier_path,
            unnest(range(1, array_length(t.tier_path))) as i
        from tasks_in_scope as t
        semi join rollup_keys as k
            on k.day = t.day and k.task_type = t.task_type
           and k.fleet is not distinct from t.fleet
        where t.escalations > 0
    )
)

select s.day, s.task_type, s.fleet, s.from_tier, s.to_tier, count(*) as steps
from steps as s
join ladder as f on f.name = s.from_tier
join ladder as t on t.name = s.to_tier
where t.rank > f.rank
group by all
