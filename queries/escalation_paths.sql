-- escalation_paths: every step up the ladder between consecutive executor attempts
-- (`haiku->sonnet`, `haiku->opus`, ...), read from each escalated task's tier path.
-- Grain: one row per task type, from-tier and to-tier.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
with escalated as (
    select task_type, tier_path
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

steps as (
    select task_type, tier_path[i] as from_tier, tier_path[i + 1] as to_tier
    from (select task_type, tier_path, unnest(range(1, len(tier_path))) as i from escalated)
)

select
    s.task_type,
    s.from_tier,
    s.to_tier,
    t.rank - f.rank as rungs,
    count(*) as steps
from steps as s
join ladder as f on f.name = s.from_tier
join ladder as t on t.name = s.to_tier
where t.rank > f.rank
group by all
order by s.task_type, s.from_tier, s.to_tier
