-- token_usd: what tokens cost at per-million-token prices, the one place the arithmetic is
-- written (spend, the counterfactual tiers, unit costs, the what-if's oracle).
-- Grain: a value, USD for one row's tokens.
-- Arguments: uncached and cached input tokens, output tokens, then the input, cached input
-- and output prices in USD per million tokens. Created on each connection by
-- queries.create_macros.
create temp macro if not exists token_usd(
    uncached_input_tokens, cached_input_tokens, output_tokens,
    input_usd_per_mtok, cached_input_usd_per_mtok, output_usd_per_mtok
) as (
    (
        uncached_input_tokens * input_usd_per_mtok
        + cached_input_tokens * cached_input_usd_per_mtok
        + output_tokens * output_usd_per_mtok
    ) / 1e6
)
