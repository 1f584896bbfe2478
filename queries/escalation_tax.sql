-- escalation_tax: spend on executor attempts that a later attempt of the same task
-- superseded (retries and escalations), against all spend, per task type.
-- Grain: one row per task type.
-- Parameters: $since, $until (inclusive, on each attempt's UTC date), $fleets, $task_types
-- (lists, on each attempt's own fields; empty = all).
-- Needs queries.pricing.register (priced_attempts, attempt_spend) on the connection.
with multi_attempt_tasks as (
    -- only chains of two or more executor attempts have superseded attempts
    select task_id from tasks where n_attempts > 1
),

chain_attempts as (
    select
        p.task_id,
        p.task_type,
        p.attempt,
        coalesce(p.cost_usd_effective, 0) as usd,
        (cast($since as date) is null or p.day >= cast($since as date))
        and (cast($until as date) is null or p.day <= cast($until as date))
        and (
            len(cast($fleets as varchar[])) = 0
            or list_contains(cast($fleets as varchar[]), p.fleet)
        )
        and (
            len(cast($task_types as varchar[])) = 0
            or list_contains(cast($task_types as varchar[]), p.task_type)
        ) as selected
    from priced_attempts as p
    semi join multi_attempt_tasks as m on m.task_id = p.task_id
    where p.role = 'executor'
),

per_task as (
    -- everything selected but the chain's last attempt (the highest attempt number)
    select
        task_type,
        count(*) filter (where selected) - arg_max(selected::integer, attempt)
            as superseded_attempts,
        coalesce(sum(usd) filter (where selected), 0)
            - arg_max(case when selected then usd else 0 end, attempt) as superseded_usd
    from chain_attempts
    group by task_id, task_type
),

superseded as (
    select
        task_type,
        sum(superseded_attempts) as superseded_attempts,
        sum(superseded_usd) as superseded_usd
    from per_task
    group by task_type
),

spend as (
    select task_type, sum(usd) as spend_usd, sum(unpriced_attempts) as unpriced_attempts
    from attempt_spend
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
