-- chain_shapes: the tasks grouped by the shape of their executor chain (the tiers in chain
-- order), what the what-if simulator, the frontier and the optimiser read: a few thousand
-- rows however many tasks there are. Built once per connection by queries.rollups.register.
-- Grain: one row per task day x fleet x task type x tier path x final outcome, with the
-- number of tasks and the tokens of their last attempts (the tokens one call of the task
-- takes, as the counterfactual prices them).
-- Parameters: none.
create or replace temp table chain_shapes as
select
    day,
    fleet,
    task_type,
    tier_path,
    first_pass_failed,
    final_status = 'ok' as accepted,
    downstream_failure,
    failed,
    count(*) as tasks,
    sum(final_input_tokens - final_cached_input_tokens) as final_uncached_input_tokens,
    sum(final_cached_input_tokens) as final_cached_input_tokens,
    sum(final_output_tokens) as final_output_tokens
from tasks
group by all
