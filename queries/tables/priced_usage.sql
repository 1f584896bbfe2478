-- priced_usage: the stored attempt_usage priced by the config (a temp view, created by
-- queries.pricing.register after it has filled price_rules from the config).
-- Grain: one row per attempt_usage row. Parameters: none.
-- Adds `usd`: the logged cost of the calls that logged one, plus the tokens of the others
-- priced at the model price in force that day (the earlier-listed rule wins a tie), else at
-- the tier price; and `unpriced_attempts`: the calls that logged no cost and that no price
-- applies to (their cost is left out of `usd`, never counted as $0).
create or replace temp view priced_usage as
with model_days as (
    -- each (model, day) is resolved once
    select distinct model, day
    from attempt_usage
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
        u.*,
        coalesce(mp.input_usd_per_mtok, tp.input_usd_per_mtok) as input_price,
        coalesce(mp.output_usd_per_mtok, tp.output_usd_per_mtok) as output_price,
        coalesce(mp.cached_input_usd_per_mtok, tp.cached_input_usd_per_mtok) as cached_price
    from attempt_usage as u
    left join model_price as mp on mp.model = u.model and mp.day = u.day
    left join tier_price as tp on tp.tier = u.tier
)

select
    day,
    task_type,
    fleet,
    role,
    tier,
    model,
    superseded,
    attempts,
    coalesce(logged_usd, 0) + coalesce(
        token_usd(
            uncached_input_tokens, cached_input_tokens, output_tokens,
            input_price, cached_price, output_price
        ),
        0
    ) as usd,
    case when input_price is null then attempts - logged_attempts else 0 end
        as unpriced_attempts
from resolved
