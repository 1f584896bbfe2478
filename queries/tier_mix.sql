-- tier_mix: where the work went, by planner-assigned tier, by executed (first) tier and by
-- final tier (in tasks), and by tier of the executor attempts (in attempts).
-- Grain: one row per mix (planner / executed / final / attempts) and tier.
-- Parameters: $since, $until (inclusive; tasks by their day, attempts by their UTC date),
-- $fleets, $task_types (lists; empty = all).
-- Reads task_rollup (stored, kept by ingest) and attempt_spend (queries.pricing.register).
with selected as (
    select planner_rank, first_rank, final_rank, tasks
    from task_rollup
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
),

executor_attempts as (
    select tier, sum(attempts) as n
    from attempt_spend
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
      and role = 'executor'
    group by tier
),

mix as (
    select 'planner' as mix, planner_rank as rank, sum(tasks) as n from selected group by all
    union all
    select 'executed', first_rank, sum(tasks) from selected group by all
    union all
    select 'final', final_rank, sum(tasks) from selected group by all
)

select
    m.mix,
    coalesce(l.name, '(not given)') as tier,
    coalesce(l.rank, 1000000) as tier_rank,
    m.n
from mix as m
left join ladder as l on l.rank = m.rank
union all
select 'attempts', e.tier, coalesce(l.rank, 1000000), e.n
from executor_attempts as e
left join ladder as l on l.name = e.tier
order by mix, tier_rank, tier
