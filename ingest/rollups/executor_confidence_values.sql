-- executor_confidence_values: executor calls per day, fleet, task type, tier, confidence
-- source, stated confidence and whether the call said ok, kept in the store
-- (ingest/derived.py); the calibration queries read it instead of the attempts.
-- Grain: one row per UTC day x fleet x task type x tier x confidence source ('(not given)'
-- when absent) x confidence (null when absent) x ok.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the calls in scope (calls_in_scope), which ingest/derived.py prepares; the day, task
-- type and fleet are the call's own.
select
    cast(a.ts as date) as day,
    a.fleet,
    a.task_type,
    a.tier,
    coalesce(a.confidence_source, '(not given)') as confidence_source,
    a.confidence,
    a.status = 'ok' as ok,
    count(*) as attempts
from calls_in_scope as a
semi join rollup_keys as k
    on k.day = cast(a.ts as date) and k.task_type = a.task_type
   and k.fleet is not distinct from a.fleet
where a.role = 'executor'
group by all
