-- escalation_reason_rollup: the escalation_reason logged on the attempts after the first of
-- each chain (retries and escalations alike), kept in the store (ingest/derived.py).
-- Grain: one row per day (the task's), task type, fleet and reason.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the tasks in scope (tasks_in_scope), which ingest/derived.py prepares.
select day, task_type, fleet, reason, count(*) as attempts
from (
    select t.day, t.task_type, t.fleet, unnest(t.escalation_reasons) as reason
    from tasks_in_scope as t
    semi join rollup_keys as k
        on k.day = t.day and k.task_type = t.task_type and k.fleet is not distinct from t.fleet
    where t.n_attempts > 1
)
group by all
