"""Each model's own price, from a maintained price library that works offline.

tierwatch uses `genai-prices` (Pydantic's price data, bundled in the wheel; no network): it
knows each provider's models, dated and aliased ids, and prices that change over time. The
other candidate, the cost map inside the `litellm` wheel, is a 40 MB dependency with its
own HTTP client for this one table. A model the library does not know is counted and
named (priced at its tier's price, never at $0 in silence).
"""

from __future__ import annotations

import datetime as dt
from functools import cache

from tierwatch.ingest.config import Price

PROBE_TOKENS = 10_000  # below every long-context price step
LIBRARY = "genai-prices"


def library_version() -> str:
    import genai_prices

    return f"{LIBRARY} {genai_prices.__version__}"


def _candidates(model: str) -> list[tuple[str, str | None]]:
    """The ids to try: as given, and without a provider prefix (`vertex_ai/gemini-…`)."""
    out = [(model, None)]
    if "/" in model:
        provider, bare = model.rsplit("/", 1)[0], model.rsplit("/", 1)[1]
        out.append((bare, None))
        out.append((bare, provider.split("/")[0]))
    return out


def _cost(ref: str, provider: str | None, when: dt.datetime | None, **usage) -> float:
    from genai_prices import Usage, calc_price

    return float(
        calc_price(
            Usage(**usage), model_ref=ref, provider_id=provider, genai_request_timestamp=when
        ).total_price
    )


@cache
def price_of(model: str, day: dt.date | None = None) -> Price | None:
    """`model`'s price per million tokens on `day` (the library's latest when None), or None
    when the library does not know it."""
    when = dt.datetime.combine(day, dt.time(12), tzinfo=dt.UTC) if day else None
    scale = 1_000_000 / PROBE_TOKENS
    for ref, provider in _candidates(model):
        try:
            return Price(
                input_usd_per_mtok=_cost(ref, provider, when, input_tokens=PROBE_TOKENS) * scale,
                output_usd_per_mtok=_cost(ref, provider, when, output_tokens=PROBE_TOKENS) * scale,
                cached_input_usd_per_mtok=_cost(
                    ref, provider, when, input_tokens=PROBE_TOKENS, cache_read_tokens=PROBE_TOKENS
                )
                * scale,
            )
        except (LookupError, ValueError, KeyError):
            continue
    return None
