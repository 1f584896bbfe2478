-- superseded_spend: spend on executor attempts that a later executor attempt of the same
-- task superseded (everything but the last attempt of a chain: retries and escalations), a
-- temp table built by queries.pricing.register from the priced usage, once per connection
-- and prices.
-- Grain: one row per UTC day (of the attempt), task type and fleet. Parameters: none.
create or replace temp table superseded_spend as
select
    day,
    task_type,
    fleet,
    cast(sum(attempts) as bigint) as superseded_attempts,
    cast(sum(unpriced_attempts) as bigint) as unpriced_superseded_attempts,
    coalesce(sum(usd), 0) as superseded_usd
from priced_usage
where superseded
group by all
