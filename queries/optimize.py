"""The optimiser as a report: the cheapest per-task-type routing table the evidence
supports (under a bound on failures, or with the cost of a downstream failure doing the
trading), its simulation against the table the fleet runs, and the exploration plan for the
moves the evidence cannot support yet (the model: queries/whatif.py)."""

from __future__ import annotations

import datetime as dt

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import whatif
from tierwatch.queries.filters import Filters, QueryError
from tierwatch.queries.simulate import NUMBERS as SIMULATE_NUMBERS

NUMBERS = SIMULATE_NUMBERS | frozenset(
    {
        "break_even_failure_rate",
        "cost_usd",
        "expected_failure_rate",
        "exploration_tasks_needed",
        "explore_one_in",
        "extra_cost_usd",
        "moves",
        "one_in",
        "saving_usd_per_day",
        "saving_usd_per_day_at_best",
        "saving_usd_per_day_estimated",
        "saving_usd_per_month",
        "tasks_needed",
        "tasks_seen",
    }
)


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters,
    max_failure_rate: float | None = None,
    max_downstream_per_day: float | None = None,
    start: dt.date | None = None,
    **options,
) -> dict:
    """The optimize report (keys in docs/reports.md#optimize)."""
    if max_failure_rate is not None and max_downstream_per_day is not None:
        raise QueryError(
            "give one bound: a maximum failure rate or a maximum of downstream failures a day"
        )
    if max_failure_rate is not None and not 0 <= max_failure_rate <= 1:
        raise QueryError(f"the maximum failure rate is {max_failure_rate:g}; a rate is from 0 to 1")
    if max_downstream_per_day is not None and max_downstream_per_day < 0:
        raise QueryError("the maximum of downstream failures a day cannot be negative")
    bound, limit = (
        ("max_failure_rate", max_failure_rate)
        if max_failure_rate is not None
        else ("max_downstream_per_day", max_downstream_per_day)
        if max_downstream_per_day is not None
        else (None, None)
    )
    ev = whatif.evidence(con, config, filters)
    result = whatif.optimise(ev, bound, limit)
    table = {t: whatif.Route(t, o.tier) for t, o in result["choice"].items()}
    proposed = whatif.simulate(ev, table)
    current = whatif.simulate(ev, whatif.observed_table(ev))
    plan = whatif.exploration(ev, result["choice"], result["menu"], start or dt.date.today())
    moves = [r for r in proposed["task_types"] if r["changed"]]
    saving = (
        None
        if proposed["usd_per_day"] is None or current["usd_per_day"] is None
        else current["usd_per_day"] - proposed["usd_per_day"]
    )
    extra = {
        e["task_type"]: {
            "explore_tier": e["to_tier"],
            "explore_one_in": e["one_in"],
            "explore_until": e["until"],
        }  # fmt: skip
        for e in plan
    }
    return {
        "bound": bound,
        "limit": limit,
        "feasible": result["feasible"],
        "settings": {
            "failure_cost_usd": ev.failure_cost,
            "min_evidence_tasks": ev.config.settings["min_evidence_tasks"],
            "prior_tasks": ev.prior_tasks,
            "exploration_days": ev.config.settings["exploration_days"],
        },
        "moves": len(moves),
        "saving_usd_per_day": saving,
        "saving_usd_per_month": whatif.per_month(saving),
        "current": {k: v for k, v in current.items() if k != "task_types"},
        **proposed,
        "exploration": plan,
        "exploration_tasks_needed": sum(e["tasks_needed"] for e in plan),
        "heuristics": [e["heuristic"] for e in plan],
        "table": whatif.table_records(table, {t: v for t, v in extra.items() if t in table}),
    }
