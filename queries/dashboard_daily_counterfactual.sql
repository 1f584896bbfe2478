-- dashboard_daily_counterfactual: what each day's executor tasks would have cost as one call
-- on each tier of the ladder (the task's last-attempt tokens priced at the tier's price).
-- Grain: one row per day and ladder tier. Parameters: $since, $until, $fleets, $task_types.
-- Reads task_rollup (stored, kept by ingest) and tier_prices (queries.pricing.register).
with daily_tokens as (
    select
        day,
        sum(final_uncached_input_tokens) as uncached_input_tokens,
        sum(final_cached_input_tokens) as cached_input_tokens,
        sum(final_output_tokens) as output_tokens
    from task_rollup
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
    group by day
)

select
    d.day,
    p.tier,
    p.tier_rank,
    token_usd(
        d.uncached_input_tokens, d.cached_input_tokens, d.output_tokens,
        p.input_usd_per_mtok, p.cached_input_usd_per_mtok, p.output_usd_per_mtok
    ) as counterfactual_usd
from daily_tokens as d
cross join tier_prices as p
order by d.day, p.tier_rank
