-- task_rollup: the tasks summed once per connection (a temp table built by
-- queries.ensure_table), so the summary, tiers, escalations and costs reports read a few
-- thousand rows instead of every task; rebuilt when the data change.
-- Grain: one row per day (the task's), task type, fleet, planner tier rank (0 = not
-- given), first (executed) tier rank and final tier rank. Parameters: none.
create or replace temp table task_rollup as
with packed as (
    -- the three ranks travel packed in one integer key: one small key groups much faster
    select
        day,
        task_type,
        fleet,
        coalesce(planner_tier_rank, 0) * 1000000 + first_tier_rank * 1000 + final_tier_rank
            as ranks,
        count(*) as tasks,
        sum(n_attempts) as executor_attempts,
        count(*) filter (where failed) as failures,
        count(*) filter (where first_pass_failed) as first_pass_failures,
        count(*) filter (where downstream_failure) as downstream_failures,
        count(*) filter (where escalations > 0) as escalated_tasks,
        count(*) filter (where retries > 0) as retried_tasks,
        count(*) filter (where skip_tier_escalations > 0) as skip_tier_tasks,
        sum(escalations) as escalations,
        sum(retries) as retries,
        sum(skip_tier_escalations) as skip_tier_escalations,
        sum(step_downs) as step_downs,
        count(*) filter (where escalations > 0 and final_status = 'ok') as rescued_tasks,
        sum(final_input_tokens - final_cached_input_tokens) as final_uncached_input_tokens,
        sum(final_cached_input_tokens) as final_cached_input_tokens,
        sum(final_output_tokens) as final_output_tokens
    from tasks
    group by all
)

select
    * exclude (ranks),
    ranks // 1000000 as planner_rank,
    ranks // 1000 % 1000 as first_rank,
    ranks % 1000 as final_rank
from packed
