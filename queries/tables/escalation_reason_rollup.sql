-- escalation_reason_rollup: the escalation_reason logged on the attempts after the first of
-- each chain (retries and escalations alike), counted once per connection (a temp table
-- built by queries.ensure_table).
-- Grain: one row per day (the task's), task type, fleet and reason. Parameters: none.
create or replace temp table escalation_reason_rollup as
select day, task_type, fleet, reason, count(*) as attempts
from (
    select day, task_type, fleet, unnest(escalation_reasons) as reason
    from tasks
    where n_attempts > 1
)
group by all
