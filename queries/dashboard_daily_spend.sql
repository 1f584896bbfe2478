-- dashboard_daily_spend: realized spend over time, split the way the cost pages show it.
-- Grain: one row per day (UTC date of the attempt), role, tier and part.
-- part: 'final' (an executor task's last attempt), 'superseded' (an executor attempt a later
-- attempt replaced: the escalation and retry tax), or the role for planner / reviewer calls.
-- Parameters: $since, $until, $fleets, $task_types. Needs queries.pricing.register first.
-- Unpriced attempts are counted, never priced as $0.
with selected as (
    select *
    from priced_attempts
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0
           or list_contains(cast($fleets as varchar[]), fleet))
      and (len(cast($task_types as varchar[])) = 0
           or list_contains(cast($task_types as varchar[]), task_type))
),

parts as (
    select
        day,
        role,
        tier,
        case
            when role <> 'executor' then role
            when row_number() over (
                partition by task_id, role order by attempt desc, ts desc
            ) = 1 then 'final'
            else 'superseded'
        end as part,
        cost_usd_effective,
        priced
    from selected
)

select
    day,
    role,
    tier,
    part,
    count(*) as attempts,
    coalesce(sum(cost_usd_effective), 0) as cost_usd,
    count(*) filter (where not priced) as unpriced_attempts
from parts
group by all
order by day, role, tier, part
