-- chain_shapes: the tasks grouped by the shape of their executor chain (the tiers in chain
-- order), what the what-if simulator, the frontier and the optimiser read: a few thousand
-- rows however many tasks there are. Kept in the store (ingest/derived.py).
-- Grain: one row per task day x fleet x task type x tier path x final outcome, with the
-- number of tasks and the tokens of their last attempts (the tokens one call of the task
-- takes, as the counterfactual prices them).
-- Its rows for the keys in temp table rollup_keys(day, task_type, fleet), summed over
-- the tasks in scope (tasks_in_scope), which ingest/derived.py prepares.
select
    t.day,
    t.fleet,
    t.task_type,
    t.tier_path,
    t.first_pass_failed,
    t.final_status = 'ok' as accepted,
    t.downstream_failure,
    t.failed,
    count(*) as tasks,
    sum(t.final_input_tokens - t.final_cached_input_tokens) as final_uncached_input_tokens,
    sum(t.final_cached_input_tokens) as final_cached_input_tokens,
    sum(t.final_output_tokens) as final_output_tokens
from tasks_in_scope as t
semi join rollup_keys as k
    on k.day = t.day and k.task_type = t.task_type and k.fleet is not distinct from t.fleet
group by all
