-- escalation_tax: spend on executor attempts that a later attempt of the same task
-- superseded (retries and escalations), against all spend, per task type.
-- Grain: one row per task type.
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (lists, on each attempt's own fields; empty = all).
-- Needs queries.pricing.register (priced_attempts) on the connection.
with multi_attempt_tasks as (
    -- only chains of two or more attempts can have superseded attempts
    select task_id from tasks where n_attempts > 1
),

chain_attempts as (
    select
        p.*,
        max(p.attempt) over (partition by p.task_id) as last_attempt
    from priced_attempts as p
    semi join multi_attempt_tasks as m on m.task_id = p.task_id
    where p.role = 'executor'
),

superseded as (
    select
        task_type,
        count(*) as superseded_attempts,
        count(*) filter (where not priced) as unpriced_superseded_attempts,
        coalesce(sum(cost_usd_effective), 0) as superseded_usd
    from chain_attempts
    where attempt < last_attempt
      and (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
    group by task_type
),

spend as (
    select
        task_type,
        coalesce(sum(cost_usd_effective), 0) as spend_usd,
        count(*) filter (where not priced) as unpriced_attempts
    from priced_attempts
    where (cast($since as date) is null or day >= cast($since as date))
      and (cast($until as date) is null or day <= cast($until as date))
      and (len(cast($fleets as varchar[])) = 0 or list_contains(cast($fleets as varchar[]), fleet))
      and (
          len(cast($task_types as varchar[])) = 0
          or list_contains(cast($task_types as varchar[]), task_type)
      )
    group by task_type
)

select
    s.task_type,
    s.spend_usd,
    s.unpriced_attempts,
    coalesce(x.superseded_attempts, 0) as superseded_attempts,
    coalesce(x.superseded_usd, 0) as superseded_usd
from spend as s
left join superseded as x using (task_type)
order by s.task_type
