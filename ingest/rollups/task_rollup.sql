-- task_rollup: the tasks summed per day (the task's), task type, fleet, planner tier rank
-- (0 = not given), first (executed) tier rank and final tier rank, kept in the store by
-- ingest (the registry, ingest/derived.py), in the file's transaction.
-- Grain: one row per key and ranks with at least one task.
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the tasks in scope (tasks_in_scope), which ingest/derived.py prepares.
with packed as (
    -- the three ranks travel packed in one integer key: one small key groups much faster
    select
        t.day,
        t.task_type,
        t.fleet,
        coalesce(t.planner_tier_rank, 0) * 1000000 + t.first_tier_rank * 1000
            + t.final_tier_rank as ranks,
        count(*) as tasks,
        sum(t.n_attempts) as executor_attempts,
        count(*) filter (where t.failed) as failures,
        count(*) filter (where t.first_pass_failed) as first_pass_failures,
        count(*) filter (where t.downstream_failure) as downstream_failures,
        count(*) filter (where t.escalations > 0) as escalated_tasks,
        count(*) filter (where t.retries > 0) as retried_tasks,
        count(*) filter (where t.skip_tier_escalations > 0) as skip_tier_tasks,
        sum(t.escalations) as escalations,
        sum(t.retries) as retries,
        sum(t.skip_tier_escalations) as skip_tier_escalations,
        sum(t.step_downs) as step_downs,
        count(*) filter (where t.escalations > 0 and t.final_status = 'ok') as rescued_tasks,
        sum(t.final_input_tokens - t.final_cached_input_tokens) as final_uncached_input_tokens,
        sum(t.final_cached_input_tokens) as final_cached_input_tokens,
        sum(t.final_output_tokens) as final_output_tokens
    from tasks_in_scope as t
    semi join rollup_keys as k
        on k.day = t.day and k.task_type = t.task_type
       and k.fleet is not distinct from t.fleet
    group by all
)

select
    * exclude (ranks),
    ranks // 1000000 as planner_rank,
    ranks // 1000 % 1000 as first_rank,
    ranks % 1000 as final_rank
from packed
