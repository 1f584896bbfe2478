-- accepted_wrong_values: accepted executor answers later found wrong, by the confidence they
-- stated, kept in the store (ingest/derived.py); the calibration queries move these calls
-- from successes to failures.
-- Grain: one row per UTC day of the task's last executor call x fleet x task type x final
-- tier x confidence source ('(not given)' when absent) x stated confidence.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the tasks in scope (tasks_in_scope), which ingest/derived.py prepares; the day is the
-- task's last executor call's.
select
    cast(t.last_ts as date) as day,
    t.fleet,
    t.task_type,
    t.final_tier as tier,
    coalesce(t.final_confidence_source, '(not given)') as confidence_source,
    t.final_confidence as confidence,
    count(*) as attempts
from tasks_in_scope as t
semi join rollup_keys as k
    on k.day = cast(t.last_ts as date) and k.task_type = t.task_type
   and k.fleet is not distinct from t.fleet
where t.final_status = 'ok'
  and t.downstream_failure
  and t.final_confidence is not null
group by all
