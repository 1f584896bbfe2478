"""The verdict: should this fleet route at all? The article's conditions, each met or not with
its value and threshold (docs/metrics.md, "Verdict"):

- volume: executor tasks per day above `min_tasks_per_day` (the article: "more than a few
  hundred tasks per day");
- heterogeneous: the task types are routed to at least two tiers that each carry at least
  MIN_TIER_SHARE of the tasks;
- quality_signal_outcome: at least QUALITY_SHARE of the tasks have an outcome beyond the
  executor's own word: their task type has a quality check (reviewer calls, rejections by a
  check (status failed), or downstream failure reports);
- quality_signal_confidence: at least QUALITY_SHARE of the tasks' accepted attempts carry a
  confidence;
- saving: realized monthly spend (routing overhead included) is lower than sending every task
  as one call to the baseline tier by more than `engineering_usd_per_month`. The baseline is
  the most capable tier carrying at least MIN_TIER_SHARE of the tasks (without routing, the
  one tier sufficiently capable for the work), or the `baseline_tier` option.

`route` is true when every condition is met.
"""

from __future__ import annotations

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import run
from tierwatch.queries.costs import build as build_costs
from tierwatch.queries.filters import Filters, QueryError
from tierwatch.queries.labels import fmt_usd
from tierwatch.queries.stats import ratio

MIN_TIER_SHARE = 0.05  # a tier counts for heterogeneity when it carries 5% of the tasks
QUALITY_SHARE = 0.5  # a quality signal covers most tasks


def default_baseline_tier(config: Config, shares: dict[str, float]) -> str:
    """The single tier routing is weighed against: the most capable tier that carries at least
    MIN_TIER_SHARE of the tasks by routed tier (one tier sufficiently capable for the work the
    fleet routes in volume); the top routed tier when none does; the cheapest without tasks."""
    carrying = [t for t in config.ladder if shares.get(t, 0.0) >= MIN_TIER_SHARE]
    routed = [t for t in config.ladder if t in shares]
    return (carrying or routed or list(config.ladder))[-1]


def _condition(name: str, met: bool, value, threshold, detail: str) -> dict:
    return {"name": name, "met": bool(met), "value": value, "threshold": threshold,
            "detail": detail}  # fmt: skip


# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "engineering_usd_per_month",
        "monthly_saving_usd",
        "tasks_per_day",
        "threshold",
        "value",
    }
)


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters,
    engineering_usd_per_month: float | None = None,
    baseline_tier: str | None = None,
    **options,
) -> dict:
    """The verdict's conditions and `route` for the selection."""
    engineering = (
        config.setting("engineering_usd_per_month")
        if engineering_usd_per_month is None
        else float(engineering_usd_per_month)
    )
    if engineering < 0:
        raise QueryError(f"engineering cost is {engineering:g}, must be a number >= 0")
    if baseline_tier is not None and baseline_tier.lower() not in config.ladder:
        raise QueryError(
            f"unknown baseline tier {baseline_tier!r}: the ladder is {' < '.join(config.ladder)}"
        )
    min_per_day = config.setting("min_tasks_per_day")

    costs = build_costs(con, config, filters)
    signals = run(con, "routing_verdict", filters.params())[0]
    tasks, days = signals["tasks"], costs["days"]
    per_day = ratio(tasks, days)

    by_tier: dict[str, int] = {}
    for r in run(con, "routed_tiers", filters.params()):
        by_tier[r["routed_tier"]] = by_tier.get(r["routed_tier"], 0) + r["tasks"]
    total_routed = sum(by_tier.values())
    shares = {t: by_tier[t] / total_routed for t in config.ladder if t in by_tier}
    carrying = [t for t, share in shares.items() if share >= MIN_TIER_SHARE]
    baseline = (baseline_tier or default_baseline_tier(config, shares)).lower()

    outcome_share = ratio(signals["tasks_with_outcome"], tasks)
    confidence_share = ratio(signals["tasks_with_confidence"], tasks)

    realized = costs["realized_usd_per_month"]
    counterfactual = costs["counterfactual_usd_per_month"].get(baseline)
    saving = None if realized is None or counterfactual is None else counterfactual - realized

    conditions = [
        _condition(
            "volume",
            per_day is not None and per_day > min_per_day,
            per_day,
            min_per_day,
            f"{tasks} executor tasks over {days} day(s)",
        ),
        _condition(
            "heterogeneous",
            len(carrying) >= 2,
            len(carrying),
            2,
            "tiers carrying >= {:.0%} of the tasks, by the tier each task type is routed to: "
            "{}".format(
                MIN_TIER_SHARE, ", ".join(f"{t} {s:.1%}" for t, s in shares.items()) or "none"
            ),
        ),
        _condition(
            "quality_signal_outcome",
            outcome_share is not None and outcome_share >= QUALITY_SHARE,
            outcome_share,
            QUALITY_SHARE,
            f"{signals['tasks_with_outcome']} of {tasks} tasks are of the "
            f"{signals['checked_task_types']} of {signals['task_types']} task types with a "
            f"quality check (reviewer calls, check rejections or downstream failure reports)",
        ),
        _condition(
            "quality_signal_confidence",
            confidence_share is not None and confidence_share >= QUALITY_SHARE,
            confidence_share,
            QUALITY_SHARE,
            f"{signals['tasks_with_confidence']} of {tasks} tasks' accepted attempts carry a "
            f"confidence",
        ),
        _condition(
            "saving",
            saving is not None and saving > engineering,
            saving,
            engineering,
            f"all-{baseline} {fmt_usd(counterfactual)}/month minus realized "
            f"{fmt_usd(realized)}/month (routing overhead included, failure costs not)"
            + (
                f"; {costs['unpriced_attempts']} attempts could not be priced"
                if costs["unpriced_attempts"]
                else ""
            ),
        ),
    ]
    return {
        "route": all(c["met"] for c in conditions),
        "conditions": conditions,
        "baseline_tier": baseline,
        "engineering_usd_per_month": engineering,
        "tasks_per_day": per_day,
        "monthly_saving_usd": saving,
        "monthly_saving_usd_vs": {
            tier: None if realized is None or usd is None else usd - realized
            for tier, usd in costs["counterfactual_usd_per_month"].items()
        },
    }
