-- escalation_paths: every step up the ladder between consecutive executor attempts
-- (`haiku->sonnet`, `haiku->opus`, ...), with the reasons logged on the attempt it led to.
-- Grain: one row per task type, from-tier, to-tier and escalation reason (null = none given).
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
with selected as (
    select task_id, task_type
    from tasks
    where escalations > 0
      and (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
),

chain as (
    select
        s.task_type,
        a.tier,
        l.rank as tier_rank,
        a.escalation_reason,
        lag(a.tier) over w as from_tier,
        lag(l.rank) over w as from_rank
    from attempts as a
    join selected as s using (task_id)
    join ladder as l on l.name = a.tier
    where a.role = 'executor'
    window w as (partition by a.task_id order by a.attempt, a.ts)
)

select
    task_type,
    from_tier,
    tier as to_tier,
    tier_rank - from_rank as rungs,
    escalation_reason,
    count(*) as steps
from chain
where tier_rank > from_rank
group by all
order by task_type, from_tier, to_tier, escalation_reason
