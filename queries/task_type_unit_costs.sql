-- task_type_unit_costs: what one call of a task type's tokens costs on every tier (the mean
-- over its tasks of their last attempt's tokens, priced at the tier: cached input at the
-- cached rate), the unit costs of the recommendations' cascade arithmetic. The same pricing
-- as the costs report's counterfactual, read from the task rollup.
-- Grain: one row per task type x ladder tier.
-- Parameters: $since, $until (inclusive), $fleets, $task_types (empty = all).
-- Reads the stored rollups and queries.pricing.register's tier_prices.
with per_task_type as (
    select
        task_type,
        sum(tasks) as tasks,
        sum(final_uncached_input_tokens) as uncached_input_tokens,
        sum(final_cached_input_tokens) as cached_input_tokens,
        sum(final_output_tokens) as output_tokens
    from task_outcomes_daily
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by task_type
)

select
    p.task_type,
    tp.tier,
    tp.tier_rank,
    p.tasks,
    token_usd(
        p.uncached_input_tokens, p.cached_input_tokens, p.output_tokens,
        tp.input_usd_per_mtok, tp.cached_input_usd_per_mtok, tp.output_usd_per_mtok
    ) / p.tasks as unit_cost_usd
from per_task_type as p
cross join tier_prices as tp
order by p.task_type, tp.tier_rank
