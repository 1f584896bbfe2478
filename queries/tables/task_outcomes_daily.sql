-- task_outcomes_daily: the task-level facts the calibration, drift, recommendation and
-- verdict queries count, rolled up once per connection (a temp table, created by
-- queries.rollups.register) so that they read a small table instead of every task.
-- Grain: one row per task day x fleet x task type x assigned tier (planner tier, else first
-- executed tier) x final tier x outcome flags, with the number of tasks and the tokens of
-- their last attempts.
-- Parameters: none.
create or replace temp table task_outcomes_daily as
select
    day,
    fleet,
    task_type,
    coalesce(planner_tier, first_tier) as assigned_tier,
    final_tier,
    escalations > 0 as escalated,
    skip_tier_escalations > 0 as skipped_tier,
    failed,
    first_pass_failed,
    downstream_failure,
    first_status = 'failed' or final_status = 'failed' or downstream_failure as quality_failed,
    final_status = 'ok' as accepted,
    final_confidence is not null as has_confidence,
    coalesce(final_confidence >= 0.8, false) as high_confidence,
    silent_failure,
    count(*) as tasks,
    sum(final_confidence) filter (where final_confidence >= 0.8) as sum_high_confidence,
    sum(final_input_tokens - final_cached_input_tokens) as final_uncached_input_tokens,
    sum(final_cached_input_tokens) as final_cached_input_tokens,
    sum(final_output_tokens) as final_output_tokens
from tasks
group by all
