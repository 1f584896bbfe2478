-- tier_mix: where the work went, by planner-assigned tier, by executed (first) tier and by
-- final tier (in tasks), and by tier of the executor attempts (in attempts).
-- Grain: one row per mix (planner / executed / final / attempts) and tier.
-- Parameters: $since, $until (inclusive; tasks by their day, attempts by their UTC date),
-- $fleets, $task_types (lists; empty = all).
-- Needs queries.pricing.register (attempt_spend) on the connection.
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
    select s.tier, l.rank as tier_rank, sum(s.attempts) as n
    from attempt_spend as s
    left join ladder as l on l.name = s.tier
    where s.role = 'executor'
      and (cast($since as date) is null or s.day >= cast($since as date))
      and (cast($until as date) is null or s.day <= cast($until as date))
      and (
          len(cast($fleets as varchar[])) = 0
          or list_contains(cast($fleets as varchar[]), s.fleet)
      )
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), s.task_type)
      )
    group by all
),

packed_groups as (
    -- one pass over the tasks; the three tier ranks travel packed in one integer key
    -- (planner * 1000000 + first * 1000 + final, planner 0 = not given)
    select
        coalesce(planner_tier_rank, 0) * 1000000 + first_tier_rank * 1000 + final_tier_rank
            as ranks,
        count(*) as n
    from selected
    group by all
),

task_groups as (
    select
        coalesce(p.name, '(not given)') as planner_label,
        coalesce(p.rank, 1000000) as planner_rank,
        f.name as first_tier,
        f.rank as first_tier_rank,
        l.name as final_tier,
        l.rank as final_tier_rank,
        g.n
    from packed_groups as g
    left join ladder as p on p.rank = g.ranks // 1000000
    join ladder as f on f.rank = g.ranks // 1000 % 1000
    join ladder as l on l.rank = g.ranks % 1000
),

mix as (
    select 'planner' as mix, planner_label as tier, planner_rank as tier_rank, sum(n) as n
    from task_groups
    group by all
    union all
    select 'executed', first_tier, first_tier_rank, sum(n) from task_groups group by all
    union all
    select 'final', final_tier, final_tier_rank, sum(n) from task_groups group by all
    union all
    select 'attempts', tier, tier_rank, n from executor_attempts
)

select mix, tier, tier_rank, n
from mix
order by mix, tier_rank, tier
