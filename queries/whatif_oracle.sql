-- whatif_oracle: the selection's tasks as the oracle would run them: each task once, on the
-- tier its chain shows it succeeded on (the only accepted tier of a chain, its last), and a
-- task that failed everywhere once on the cheapest tier, failing. The oracle can do no
-- better than the chains show: a task that succeeded on Sonnet might have on Haiku.
-- Grain: one row.
-- Parameters: $since, $until (inclusive, on the task's day), $fleets, $task_types
-- (lists; empty = all). Reads chain_shapes (kept in the store), ladder and
-- tier_prices (queries.pricing.register).
with selected as (
    select
        *,
        case
            when failed then (select name from ladder order by rank limit 1)
            else tier_path[-1]
        end as oracle_tier
    from chain_shapes
    where in_selection(day, fleet, task_type, $since, $until, $fleets, $task_types)
)

select
    sum(s.tasks) as tasks,
    coalesce(sum(s.tasks) filter (where s.failed), 0) as failures,
    sum(token_usd(
        s.final_uncached_input_tokens, s.final_cached_input_tokens, s.final_output_tokens,
        tp.input_usd_per_mtok, tp.cached_input_usd_per_mtok, tp.output_usd_per_mtok
    )) as usd
from selected as s
join tier_prices as tp on tp.tier = s.oracle_tier
