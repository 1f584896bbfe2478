-- silent_failure_examples: the silent failures a reader drills down to (tasks accepted with
-- high confidence that a later step found wrong), a bounded few per key, so that the
-- drill-downs need no tasks table: per (day, task type, fleet), the first three by task id
-- (the calibration report's examples) and the latest five by first call (the dashboard's).
-- Kept in the store (ingest/derived.py). Its rows are rows of the tasks (same column names,
-- silent_failure always true), so new tasks are merged by running this file again over the
-- stored rows and the new tasks together.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), from the tasks in
-- scope (tasks_in_scope), which ingest/derived.py prepares.
select
    day, task_type, fleet, task_id, first_ts, plan_id, final_tier, final_model,
    final_confidence, final_confidence_source, downstream_detected_at, silent_failure
from (
    select
        t.day, t.task_type, t.fleet, t.task_id, t.first_ts, t.plan_id, t.final_tier,
        t.final_model, t.final_confidence, t.final_confidence_source,
        t.downstream_detected_at, t.silent_failure,
        row_number() over (
            partition by t.day, t.task_type, t.fleet order by t.task_id
        ) as by_id,
        row_number() over (
            partition by t.day, t.task_type, t.fleet order by t.first_ts desc, t.task_id
        ) as by_latest
    from tasks_in_scope as t
    semi join rollup_keys as k
        on k.day = t.day and k.task_type = t.task_type and k.fleet is not distinct from t.fleet
    where t.silent_failure
) as ranked
where by_id <= 3 or by_latest <= 5
