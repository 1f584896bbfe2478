-- model_versions: the model versions each tier ran, and when each became the tier's main one.
-- Grain: one row per executed tier x model id (executor attempts; a missing model id is
-- reported as '(not given)').
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (on each attempt's own fields; empty = all). Reads the rollups the store keeps.
-- dominant_since: the first UTC day on which this model ran the most of the tier's attempts
-- (ties go to the model id that sorts first); null when it never did. The tier's model
-- changes are its dominant models in the order of dominant_since (see drift_before_after).
with daily as (
    select tier, model, day, sum(attempts) as attempts
    from executor_models_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by tier, model, day
),

dominant as (
    select tier, model, min(day) as dominant_since
    from (
        select
            tier,
            model,
            day,
            row_number() over (partition by tier, day order by attempts desc, model) as pick
        from daily
    )
    where pick = 1
    group by tier, model
)

select
    d.tier,
    l.rank as tier_rank,
    d.model,
    min(d.day) as first_day,
    max(d.day) as last_day,
    sum(d.attempts) as attempts,
    sum(d.attempts) / sum(sum(d.attempts)) over (partition by d.tier) as share,
    any_value(m.dominant_since) as dominant_since
from daily as d
join ladder as l on l.name = d.tier
left join dominant as m using (tier, model)
group by d.tier, l.rank, d.model
order by l.rank, first_day, d.model
