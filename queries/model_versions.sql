-- model_versions: the model versions each tier ran, and when each became the tier's main one.
-- Grain: one row per executed tier x model id (executor attempts; a missing model id is
-- reported as '(not given)').
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all): they select
-- tasks by their day, fleet and task type; every executor attempt of a selected task counts.
-- dominant_since: the first UTC day on which this model ran the most of the tier's attempts
-- (ties go to the model id that sorts first); null when it never did. The tier's model
-- changes are its dominant models in the order of dominant_since (see drift_before_after).
with selected as (
    select task_id
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

daily as (
    select
        a.tier,
        coalesce(a.model, '(not given)') as model,
        cast(a.ts as date) as day,
        count(*) as attempts
    from attempts as a
    join selected as s using (task_id)
    where a.role = 'executor'
    group by all
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
