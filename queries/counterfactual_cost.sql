-- counterfactual_cost: what the selection's executor tasks would have cost as one call each
-- on every tier of the ladder (each task's tokens from its last attempt, priced at the
-- tier's price: cached input at the cached rate), with the task counts cost per task needs.
-- Grain: one row per task type and ladder tier.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all).
-- Reads task_rollup (stored, kept by ingest) and tier_prices (queries.pricing.register).
with per_task_type as (
    select
        task_type,
        sum(tasks) as tasks,
        sum(tasks - failures) as successful_tasks,
        sum(downstream_failures) as downstream_failures,
        sum(final_uncached_input_tokens) as uncached_input_tokens,
        sum(final_cached_input_tokens) as cached_input_tokens,
        sum(final_output_tokens) as output_tokens
    from task_rollup
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by task_type
)

select
    p.task_type,
    tp.tier,
    tp.tier_rank,
    p.tasks,
    p.successful_tasks,
    p.downstream_failures,
    token_usd(
        p.uncached_input_tokens, p.cached_input_tokens, p.output_tokens,
        tp.input_usd_per_mtok, tp.cached_input_usd_per_mtok, tp.output_usd_per_mtok
    ) as counterfactual_usd
from per_task_type as p
cross join tier_prices as tp
order by p.task_type, tp.tier_rank
