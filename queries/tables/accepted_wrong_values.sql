-- accepted_wrong_values: accepted executor answers later found wrong, by the confidence they
-- stated (a temp table, created by queries.rollups.register; the calibration queries move
-- these calls from successes to failures).
-- Grain: one row per UTC day of the task's last executor call x fleet x task type x final
-- tier x confidence source ('(not given)' when absent) x stated confidence.
-- Parameters: none.
create or replace temp table accepted_wrong_values as
select
    cast(last_ts as date) as day,
    fleet,
    task_type,
    final_tier as tier,
    coalesce(final_confidence_source, '(not given)') as confidence_source,
    final_confidence as confidence,
    count(*) as attempts
from tasks
where final_status = 'ok'
  and downstream_failure
  and final_confidence is not null
group by all
