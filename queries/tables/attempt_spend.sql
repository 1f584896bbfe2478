-- attempt_spend: the priced usage summed once per register, what every report's spend reads
-- (a temp table, created by queries.pricing.register over the few thousand rows of the
-- stored attempt_usage).
-- Grain: one row per UTC day, task type, fleet, role and tier. Parameters: none.
create or replace temp table attempt_spend as
select
    day,
    task_type,
    fleet,
    role,
    tier,
    cast(sum(attempts) as bigint) as attempts,
    cast(sum(unpriced_attempts) as bigint) as unpriced_attempts,
    coalesce(sum(usd), 0) as usd
from priced_usage
group by all
