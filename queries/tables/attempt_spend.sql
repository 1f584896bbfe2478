-- attempt_spend: the priced attempts summed once per register, so that every report's spend
-- reads a few thousand rows instead of every attempt (a temp table, created by
-- queries.pricing.register).
-- Grain: one row per UTC day, task type, fleet, role and tier. Parameters: none.
create or replace temp table attempt_spend as
select
    day,
    task_type,
    fleet,
    role,
    tier,
    count(*) as attempts,
    count(*) filter (where not priced) as unpriced_attempts,
    coalesce(sum(cost_usd_effective), 0) as usd
from priced_attempts
group by all
