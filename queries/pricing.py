"""Prices on a connection: the config's price rules applied to what the calls used.

`register(con, config)` creates, on that connection only (temp objects, nothing stored):
- `price_rules`: one row per tier price and per model price of the config;
- `tier_prices`: one row per ladder tier with its price (for counterfactuals: price any
  token count at any tier by joining it);
- `priced_usage`: the store's `attempt_usage` rollup (the calls' logged cost and tokens per
  day, task type, fleet, role, tier and model) with `usd` and `unpriced_attempts`;
- `attempt_spend`: priced_usage summed per day, task type, fleet, role and tier, what the
  reports' spend reads;
- `superseded_spend`: the same for the executor calls a later call of their task superseded
  (the escalation tax).
All of them read the stored usage, a few thousand rows, never the attempts: registering
prices costs milliseconds whatever the store's size.

A call's effective cost is its logged `cost_usd` when given; else its tokens priced at the
model price in force on its date (a glob over the model id, the latest `from` on or before
the date; the earlier-listed rule wins a tie), else at its tier's price. Cached input tokens
are priced at the cached rate and the rest of the input at the input rate. A call that none
of these can price is counted in `unpriced_attempts` and left out of `usd`: reports count it
as unpriced, never as $0. The dashboard's what-if passes a modified Config and calls
`register` again.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import duckdb

from tierwatch.ingest import model_prices
from tierwatch.ingest.config import Config, Price
from tierwatch.queries import create_macros, data_key, sql_text
from tierwatch.queries.filters import QueryError


def register(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """(Re)create `price_rules`, `tier_prices`, `priced_usage`, `attempt_spend` and
    `superseded_spend` on `con` for `config`. A second call with the same prices on
    unchanged data does nothing."""
    rows = _price_rows(config)
    if config.model_prices == "library":
        rows += _library_rows(con, config, start=len(rows))
    key = repr((rows, data_key(con)))
    registered = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = 'pricing_state'"
    ).fetchone()[0]
    if registered and con.execute("select key from pricing_state").fetchone() == (key,):
        return
    con.execute(
        """
        create or replace temp table price_rules (
            position integer not null,        -- order in the config: earlier wins a tie
            kind varchar not null,            -- 'tier' or 'model'
            tier varchar,                     -- kind = 'tier': the tier's name
            tier_rank integer,                -- kind = 'tier': 1 = cheapest
            model_glob varchar,               -- kind = 'model': a glob over model ids
            starts date,                      -- kind = 'model': in force from this date
            input_usd_per_mtok double not null,
            output_usd_per_mtok double not null,
            cached_input_usd_per_mtok double not null
        )
        """
    )
    con.executemany("insert into price_rules values (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    con.execute(
        """
        create or replace temp view tier_prices as
        select tier, tier_rank, input_usd_per_mtok, output_usd_per_mtok,
               cached_input_usd_per_mtok
        from price_rules
        where kind = 'tier'
        """
    )
    create_macros(con)
    for name in ("priced_usage", "attempt_spend", "superseded_spend"):
        con.execute(sql_text(name))
    con.execute("create or replace temp table pricing_state (key varchar not null)")
    con.execute("insert into pricing_state values (?)", [key])


def _price_rows(config: Config) -> list[tuple]:
    """price_rules' rows for `config`: its tiers, then its model prices, in config order."""
    return [
        (
            i,
            "tier",
            t.name,
            t.rank,
            None,
            None,
            t.price.input_usd_per_mtok,
            t.price.output_usd_per_mtok,
            t.price.cached_input_usd_per_mtok,
        )
        for i, t in enumerate(config.tiers)
    ] + [
        (
            len(config.tiers) + i,
            "model",
            None,
            None,
            p.model,
            p.starts,
            p.price.input_usd_per_mtok,
            p.price.output_usd_per_mtok,
            p.price.cached_input_usd_per_mtok,
        )
        for i, p in enumerate(config.prices)
    ]


def tier_prices(config: Config) -> list[dict]:
    """What each tier costs in the counterfactuals (every task on tier T): its price per
    million tokens, the model that price is of (a named ladder's representative), and where
    the price comes from (the config file, or the price library and its version)."""
    return [
        {
            "tier": t.name,
            "representative": t.representative,
            "input_usd_per_mtok": t.price.input_usd_per_mtok,
            "output_usd_per_mtok": t.price.output_usd_per_mtok,
            "cached_input_usd_per_mtok": t.price.cached_input_usd_per_mtok,
            "price_from": t.price_from,
        }
        for t in config.tiers
    ]


LIBRARY_FROM = dt.date(1970, 1, 1)


def _library_rows(con: duckdb.DuckDBPyConnection, config: Config, start: int) -> list[tuple]:
    """Model price rules from the price library for each model in the store that the
    config prices not itself; after the config's rules, so that those win a tie."""
    models = [r[0] for r in con.execute(sql_text("stored_models")).fetchall()]
    rows = []
    for model in models:
        if config.has_model_price(model):
            continue
        price = model_prices.price_of(model)
        if price is None:
            continue
        rows.append(
            (
                start + len(rows),
                "model",
                None,
                None,
                # the id itself, its glob characters escaped: it names one model
                re.sub(r"([*?\[])", r"[\1]", model),
                LIBRARY_FROM,
                price.input_usd_per_mtok,
                price.output_usd_per_mtok,
                price.cached_input_usd_per_mtok,
            )
        )
    return rows


def unpriced_models(con: duckdb.DuckDBPyConnection, config: Config) -> list[str]:
    """Models in the store that neither the config nor the price library prices (their
    calls are priced at their tier's price); empty unless model_prices = "library"."""
    if config.model_prices != "library":
        return []
    models = [r[0] for r in con.execute(sql_text("stored_models")).fetchall()]
    return [m for m in models if model_prices.price_of(m) is None and not config.has_model_price(m)]


def price_tokens(
    config: Config, tier: str, input_tokens: int, output_tokens: int, cached_input_tokens: int = 0
) -> float:
    """What `input_tokens` / `output_tokens` (of which `cached_input_tokens` cached) cost at
    `tier`'s price; QueryError for a tier not on the config's ladder."""
    names = config.ladder
    if tier.lower() not in names:
        raise QueryError(f"unknown tier {tier!r}: the ladder is {' < '.join(names)}")
    price = config.tier(tier).price
    con = duckdb.connect()  # the stores' own arithmetic: queries/macros/token_usd.sql
    try:
        create_macros(con)
        return con.execute(
            "select token_usd(?, ?, ?, ?, ?, ?)",
            [
                input_tokens - cached_input_tokens,
                cached_input_tokens,
                output_tokens,
                price.input_usd_per_mtok,
                price.cached_input_usd_per_mtok,
                price.output_usd_per_mtok,
            ],
        ).fetchone()[0]
    finally:
        con.close()


def with_prices(
    config: Config, prices: dict[str, tuple[float, float, float]], failure_cost_usd: float
) -> Config:
    """`config` with each named tier at (input, output, cached input) USD per million
    tokens and another cost of a downstream failure: a what-if, nothing stored. A tier not
    named keeps its price."""
    tiers = tuple(
        dataclasses.replace(t, price=Price(*prices[t.name])) if t.name in prices else t
        for t in config.tiers
    )
    return dataclasses.replace(
        config,
        tiers=tiers,
        settings={**config.settings, "failure_cost_usd": failure_cost_usd},
        source=f"{config.source} with what-if prices",
    )
