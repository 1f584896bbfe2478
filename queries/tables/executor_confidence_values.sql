-- executor_confidence_values: executor calls per day, fleet, task type, tier, confidence
-- source, stated confidence and whether the call said ok (a temp table, created by
-- queries.rollups.register; the calibration queries read it instead of the attempts).
-- Grain: one row per UTC day x fleet x task type x tier x confidence source ('(not given)'
-- when absent) x confidence (null when absent) x ok.
-- Parameters: none.
create or replace temp table executor_confidence_values as
select
    cast(ts as date) as day,
    fleet,
    task_type,
    tier,
    coalesce(confidence_source, '(not given)') as confidence_source,
    confidence,
    status = 'ok' as ok,
    count(*) as attempts
from attempts
where role = 'executor'
group by all
