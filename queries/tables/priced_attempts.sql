-- priced_attempts: the attempts with their effective cost (a temp view, created by
-- queries.pricing.register after it has filled price_rules from the config).
-- Grain: one row per attempt (every role). Parameters: none.
-- Adds `day` (UTC date of ts), `cost_usd_effective` (logged cost_usd, else tokens priced at
-- the model price in force that day, else at the tier price; null when none applies) and
-- `priced` (false when the attempt could not be priced).
create or replace temp view priced_attempts as
with model_days as (
    -- each (model, day) is resolved once, not once per attempt
    select distinct model, cast(ts as date) as day
    from attempts
    where model is not null
      and exists (select 1 from price_rules where kind = 'model')
),

model_price as (
    select
        m.model,
        m.day,
        r.input_usd_per_mtok,
        r.output_usd_per_mtok,
        r.cached_input_usd_per_mtok
    from model_days as m
    join price_rules as r
        on r.kind = 'model'
        and lower(m.model) glob lower(r.model_glob)
        and r.starts <= m.day
    qualify row_number() over (
        partition by m.model, m.day order by r.starts desc, r.position
    ) = 1
),

tier_price as (
    select tier, input_usd_per_mtok, output_usd_per_mtok, cached_input_usd_per_mtok
    from price_rules
    where kind = 'tier'
),

resolved as (
    select
        a.*,
        cast(a.ts as date) as day,
        coalesce(mp.input_usd_per_mtok, tp.input_usd_per_mtok) as input_price,
        coalesce(mp.output_usd_per_mtok, tp.output_usd_per_mtok) as output_price,
        coalesce(mp.cached_input_usd_per_mtok, tp.cached_input_usd_per_mtok) as cached_price
    from attempts as a
    left join model_price as mp on mp.model = a.model and mp.day = cast(a.ts as date)
    left join tier_price as tp on tp.tier = a.tier
)

select
    * exclude (input_price, output_price, cached_price),
    coalesce(
        cost_usd,
        token_usd(
            input_tokens - coalesce(cached_input_tokens, 0), coalesce(cached_input_tokens, 0),
            output_tokens, input_price, cached_price, output_price
        )
    ) as cost_usd_effective,
    (cost_usd is not null or input_price is not null) as priced
from resolved
