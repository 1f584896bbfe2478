-- task_outcomes_daily: the task-level facts the calibration, drift, recommendation and
-- verdict queries count, kept in the store (ingest/derived.py) so that they read a small
-- table instead of every task.
-- Grain: one row per task day x fleet x task type x assigned tier (planner tier, else first
-- executed tier) x final tier x outcome flags, with the number of tasks and the tokens of
-- their last attempts.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the tasks in scope (tasks_in_scope), which ingest/derived.py prepares.
select
    t.day,
    t.fleet,
    t.task_type,
    coalesce(t.planner_tier, t.first_tier) as assigned_tier,
    t.final_tier,
    t.escalations > 0 as escalated,
    t.skip_tier_escalations > 0 as skipped_tier,
    t.failed,
    t.first_pass_failed,
    t.downstream_failure,
    t.first_status = 'failed' or t.final_status = 'failed' or t.downstream_failure
        as quality_failed,
    t.final_status = 'ok' as accepted,
    t.final_confidence is not null as has_confidence,
    coalesce(t.final_confidence >= 0.8, false) as high_confidence,
    t.silent_failure,
    count(*) as tasks,
    sum(t.final_confidence) filter (where t.final_confidence >= 0.8) as sum_high_confidence,
    sum(t.final_input_tokens - t.final_cached_input_tokens) as final_uncached_input_tokens,
    sum(t.final_cached_input_tokens) as final_cached_input_tokens,
    sum(t.final_output_tokens) as final_output_tokens
from tasks_in_scope as t
semi join rollup_keys as k
    on k.day = t.day and k.task_type = t.task_type and k.fleet is not distinct from t.fleet
group by all
