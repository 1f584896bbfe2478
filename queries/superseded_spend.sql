-- superseded_spend: spend on executor attempts that a later executor attempt of the same
-- task superseded (everything but the last attempt of a chain: retries and escalations), a
-- temp table built once per connection and prices (queries.pricing.ensure_superseded_spend).
-- Grain: one row per UTC day (of the attempt), task type and fleet. Parameters: none.
create or replace temp table superseded_spend as
with multi_attempt_tasks as (
    -- only chains of two or more executor attempts have superseded attempts
    select task_id from tasks where n_attempts > 1
),

chain_attempts as (
    select
        p.day,
        p.task_type,
        p.fleet,
        p.priced,
        p.cost_usd_effective,
        p.attempt,
        max(p.attempt) over (partition by p.task_id) as last_attempt
    from priced_attempts as p
    semi join multi_attempt_tasks as m on m.task_id = p.task_id
    where p.role = 'executor'
)

select
    day,
    task_type,
    fleet,
    count(*) as superseded_attempts,
    count(*) filter (where not priced) as unpriced_superseded_attempts,
    coalesce(sum(cost_usd_effective), 0) as superseded_usd
from chain_attempts
where attempt < last_attempt
group by all
