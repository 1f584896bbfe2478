"""Realized vs counterfactual cost: what routing spent against every task as one call on
one tier, per day, per month and per task type, with routing overhead and failure cost."""

from __future__ import annotations

import datetime as dt

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import run
from tierwatch.queries.filters import Filters
from tierwatch.queries.stats import ratio

DAYS_PER_MONTH = 30
OVERHEAD_ROLES = ("planner", "reviewer")


def selection_days(first: dt.date | None, last: dt.date | None) -> int:
    """UTC calendar days from the first to the last attempt, inclusive (0 without attempts)."""
    if first is None or last is None:
        return 0
    return (last - first).days + 1


def realized_spend(con: duckdb.DuckDBPyConnection, filters: Filters) -> dict:
    """Spend of the selection's attempts (by attempt date): totals, days, overhead and the
    rows per task type and role. Needs pricing registered on `con`."""
    rows = run(con, "realized_spend", filters.params())
    first = min((r["first_day"] for r in rows), default=None)
    last = max((r["last_day"] for r in rows), default=None)
    return {
        "days": selection_days(first, last),
        "first_day": first,
        "last_day": last,
        "attempts": sum(r["attempts"] for r in rows),
        "unpriced_attempts": sum(r["unpriced_attempts"] for r in rows),
        "realized_usd": sum((r["usd"] for r in rows), 0.0),
        "overhead_usd": {
            role: sum((r["usd"] for r in rows if r["role"] == role), 0.0) for role in OVERHEAD_ROLES
        },
        "rows": rows,
    }


def _per_day(value: float | None, days: int) -> float | None:
    return ratio(value, days)


def _per_month(value: float | None, days: int) -> float | None:
    per_day = ratio(value, days)
    return None if per_day is None else per_day * DAYS_PER_MONTH


def _savings(realized: float, counterfactual: dict[str, float]) -> dict[str, float | None]:
    """1 − realized / counterfactual per tier (null when the counterfactual is $0)."""
    return {tier: (None if not usd else 1 - realized / usd) for tier, usd in counterfactual.items()}


# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "attempts",
        "cost_per_successful_task_usd",
        "days",
        "downstream_failures",
        "failure_adjusted_usd",
        "failure_adjusted_usd_per_day",
        "failure_cost_usd",
        "overhead_share",
        "overhead_usd",
        "realized_usd",
        "realized_usd_per_day",
        "realized_usd_per_month",
        "successful_tasks",
        "tasks",
        "unpriced_attempts",
    }
)


def build(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters, **options) -> dict:
    """The costs report (keys in docs/reports.md#costs)."""
    spend = realized_spend(con, filters)
    counter = run(con, "counterfactual_cost", filters.params())
    days = spend["days"]
    ladder = list(config.ladder)

    realized_by_type: dict[str, dict] = {}
    for r in spend["rows"]:
        t = realized_by_type.setdefault(
            r["task_type"], {"usd": 0.0, "unpriced": 0, "overhead": 0.0}
        )
        t["usd"] += r["usd"]
        t["unpriced"] += r["unpriced_attempts"]
        if r["role"] in OVERHEAD_ROLES:
            t["overhead"] += r["usd"]
    tasks_by_type: dict[str, dict] = {}
    for r in counter:
        t = tasks_by_type.setdefault(
            r["task_type"],
            {
                "tasks": r["tasks"],
                "successful_tasks": r["successful_tasks"],
                "downstream_failures": r["downstream_failures"],
                "counterfactual_usd": {},
            },
        )
        t["counterfactual_usd"][r["tier"]] = r["counterfactual_usd"]

    tasks = sum(t["tasks"] for t in tasks_by_type.values())
    successful = sum(t["successful_tasks"] for t in tasks_by_type.values())
    downstream = sum(t["downstream_failures"] for t in tasks_by_type.values())
    counterfactual = {
        tier: sum(t["counterfactual_usd"].get(tier, 0.0) for t in tasks_by_type.values())
        for tier in ladder
    }
    realized = spend["realized_usd"]
    failure_cost = config.failure_cost_usd
    failure_adjusted = realized + failure_cost * downstream

    by_task_type = []
    for name in sorted(set(realized_by_type) | set(tasks_by_type)):
        real = realized_by_type.get(name, {"usd": 0.0, "unpriced": 0, "overhead": 0.0})
        t = tasks_by_type.get(
            name,
            {"tasks": 0, "successful_tasks": 0, "downstream_failures": 0, "counterfactual_usd": {}},
        )
        cf = {tier: t["counterfactual_usd"].get(tier, 0.0) for tier in ladder}
        by_task_type.append(
            {
                "task_type": name,
                "tasks": t["tasks"],
                "realized_usd": real["usd"],
                "realized_usd_per_day": _per_day(real["usd"], days),
                "realized_usd_per_month": _per_month(real["usd"], days),
                "overhead_usd": real["overhead"],
                "counterfactual_usd": cf,
                "counterfactual_usd_per_day": {k: _per_day(v, days) for k, v in cf.items()},
                "savings_vs": _savings(real["usd"], cf),
                "unpriced_attempts": real["unpriced"],
                "downstream_failures": t["downstream_failures"],
                "cost_per_successful_task_usd": ratio(real["usd"], t["successful_tasks"]),
                "failure_adjusted_usd": real["usd"] + failure_cost * t["downstream_failures"],
            }
        )
    by_task_type.sort(key=lambda r: (-r["realized_usd"], r["task_type"]))

    return {
        "days": days,
        "first_day": spend["first_day"].isoformat() if spend["first_day"] else None,
        "last_day": spend["last_day"].isoformat() if spend["last_day"] else None,
        "tasks": tasks,
        "successful_tasks": successful,
        "attempts": spend["attempts"],
        "unpriced_attempts": spend["unpriced_attempts"],
        "realized_usd": realized,
        "realized_usd_per_day": _per_day(realized, days),
        "realized_usd_per_month": _per_month(realized, days),
        "counterfactual_usd": counterfactual,
        "counterfactual_usd_per_day": {k: _per_day(v, days) for k, v in counterfactual.items()},
        "counterfactual_usd_per_month": {k: _per_month(v, days) for k, v in counterfactual.items()},
        "savings_vs": _savings(realized, counterfactual),
        "savings_usd_per_month_vs": {
            k: (None if days == 0 else (v - realized) / days * DAYS_PER_MONTH)
            for k, v in counterfactual.items()
        },
        "overhead_usd": spend["overhead_usd"],
        "overhead_share": ratio(sum(spend["overhead_usd"].values()), realized),
        "cost_per_successful_task_usd": ratio(realized, successful),
        "downstream_failures": downstream,
        "failure_cost_usd": failure_cost,
        "failure_adjusted_usd": failure_adjusted,
        "failure_adjusted_usd_per_day": _per_day(failure_adjusted, days),
        "by_task_type": by_task_type,
    }


def strategies(result: dict, ladder: list[str]) -> list[dict]:
    """The costs report's strategies side by side: every one-tier fleet, then the routed one
    (what ran). `routing_saves` is 1 - realized / the strategy (null for the routed one)."""
    rows = [
        {
            "strategy": f"all-{tier}",
            "tier": tier,
            "usd": result["counterfactual_usd"][tier],
            "usd_per_day": result["counterfactual_usd_per_day"][tier],
            "usd_per_month": result["counterfactual_usd_per_month"][tier],
            "routing_saves": result["savings_vs"][tier],
        }
        for tier in ladder
    ]
    rows.append(
        {
            "strategy": "realized (routed)",
            "tier": None,
            "usd": result["realized_usd"],
            "usd_per_day": result["realized_usd_per_day"],
            "usd_per_month": result["realized_usd_per_month"],
            "routing_saves": None,
        }
    )
    return rows


WATERFALL_STEPS = (
    ("final", "last attempts on the tiers the planner chose"),
    ("superseded", "superseded attempts (retries, escalations)"),
    ("planner", "planner calls"),
    ("reviewer", "reviewer calls"),
)


def waterfall(result: dict, spend: list[dict], top: str) -> list[tuple[str, float]]:
    """From running everything on the top tier to what was realized, over the selection:
    (step, USD) for the Costs page's waterfall. `spend` is dashboard_daily_spend's rows (by
    day and part); the steps add up to the realized spend."""
    parts: dict[str, float] = {}
    for row in spend:
        parts[row["part"]] = parts.get(row["part"], 0.0) + (row["cost_usd"] or 0.0)
    start = result["counterfactual_usd"][top]
    steps = [(f"all-{top}", start)]
    for part, name in WATERFALL_STEPS:
        value = parts.get(part, 0.0)
        steps.append((name, value - start if part == "final" else value))
    return steps
