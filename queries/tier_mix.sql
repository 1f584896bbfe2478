-- tier_mix: where the work went, by planner-assigned tier, by executed (first) tier and by
-- final tier (in tasks), and by tier of the executor attempts (in attempts).
-- Grain: one row per mix (planner / executed / final / attempts) and tier.
-- Parameters: $since, $until (inclusive; tasks by their day, attempts by their UTC date),
-- $fleets, $task_types (lists; empty = all).
with selected as (
    select *
    from tasks
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
),

executor_attempts as (
    select a.tier, l.rank as tier_rank
    from attempts as a
    left join ladder as l on l.name = a.tier
    where a.role = 'executor'
      and (cast($since as date) is null or cast(a.ts as date) >= cast($since as date))
      and (cast($until as date) is null or cast(a.ts as date) <= cast($until as date))
      and (
          len(cast($fleets as varchar[])) = 0
          or list_contains(cast($fleets as varchar[]), a.fleet)
      )
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), a.task_type)
      )
),

mix as (
    select
        'planner' as mix,
        coalesce(planner_tier, '(not given)') as tier,
        coalesce(planner_tier_rank, 1000000) as tier_rank,
        count(*) as n
    from selected
    group by all
    union all
    select 'executed', first_tier, first_tier_rank, count(*) from selected group by all
    union all
    select 'final', final_tier, final_tier_rank, count(*) from selected group by all
    union all
    select 'attempts', tier, tier_rank, count(*) from executor_attempts group by all
)

select mix, tier, tier_rank, n
from mix
order by mix, tier_rank, tier
