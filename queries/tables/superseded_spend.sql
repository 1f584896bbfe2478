-- superseded_spend: spend on executor attempts that a later executor attempt of the same
-- task superseded (everything but the last attempt of a chain: retries and escalations), a
-- temp table built once per connection and prices (queries.pricing.ensure_superseded_spend).
-- Grain: one row per UTC day (of the attempt), task type and fleet. Parameters: none.
create or replace temp table superseded_spend as
with last_attempts as (
    -- a chain's last attempt has the highest attempt number (attempt numbers are unique
    -- within a task's executor calls); a chain of two or more has one above 1, so looking
    -- only at attempts numbered above 1 finds every chain that has superseded attempts
    select task_id, max(attempt) as last_attempt
    from attempts
    where role = 'executor' and attempt > 1
    group by task_id
)

select
    p.day,
    p.task_type,
    p.fleet,
    count(*) as superseded_attempts,
    count(*) filter (where not p.priced) as unpriced_superseded_attempts,
    coalesce(sum(p.cost_usd_effective), 0) as superseded_usd
from priced_attempts as p
join last_attempts as l using (task_id)
where p.role = 'executor' and p.attempt < l.last_attempt
group by all
