"""The reports: each analysis by name, built as JSON-ready dicts.

Every analysis module `queries/<name>.py` has `build(con, config, filters, **options) ->
dict` and `NUMBERS`, the keys of its result a `--fail-on` gate can reach; its text form is
the command line's (tierwatch/cli/render/<name>.py). Modules are imported by name only
when asked for, so a report whose module does not exist yet fails with QueryError, not an
ImportError at start.
"""

from __future__ import annotations

import importlib
import math
from types import ModuleType

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.ingest.store import stored_ladder
from tierwatch.queries import pricing, run
from tierwatch.queries.filters import Filters, QueryError

# name -> (module, what it answers), in the order a reader meets them
REPORTS: dict[str, tuple[str, str]] = {
    "summary": (
        "tierwatch.queries.summary",
        "tasks, attempts, tier mix, failure, escalation, cost per day",
    ),
    "tiers": ("tierwatch.queries.tiers", "failure by planner-assigned and executed tier"),
    "escalations": ("tierwatch.queries.escalations", "escalation hotspots per task type"),
    "costs": ("tierwatch.queries.costs", "realized vs counterfactual cost per tier"),
    "calibration": ("tierwatch.queries.calibration", "confidence calibration per tier"),
    "drift": ("tierwatch.queries.drift", "model version changes and stale routing evidence"),
    "recommendations": (
        "tierwatch.queries.recommendations",
        "re-tiering recommendations per task type",
    ),
    "verdict": ("tierwatch.queries.verdict", "should this fleet route at all?"),
    "simulate": (
        "tierwatch.queries.simulate",
        "what the routing table (flags applied) would cost and fail",
    ),
    "frontier": (
        "tierwatch.queries.frontier",
        "one-tier fleets, routings and the oracle on cost x failure",
    ),
    "optimize": (
        "tierwatch.queries.optimize",
        "the cheapest table the evidence supports, and what to explore",
    ),
}


def report_module(name: str) -> ModuleType:
    """The analysis module of report `name`; QueryError for an unknown or unbuilt report."""
    if name not in REPORTS:
        raise QueryError(f"unknown report {name!r}; the reports are {', '.join(REPORTS)}")
    module_name = REPORTS[name][0]
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as e:
        if e.name != module_name:
            raise
        raise QueryError(f"report {name!r} is not available in this version of tierwatch") from None


class LadderMismatch(QueryError):
    """The store's tiers are not the config's: the config the logs were loaded with is
    needed (the command line names its option)."""


def check_ladder(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """QueryError when the store was built with tiers the config does not know."""
    stored = stored_ladder(con)
    if stored and stored != config.ladder:
        unknown = [t for t in stored if t not in config.ladder]
        detail = f" (unknown tier {', '.join(map(repr, unknown))})" if unknown else ""
        raise LadderMismatch(
            f"this database was built with the ladder {' < '.join(stored)}, but the config "
            f"({config.source}) has {' < '.join(config.ladder)}{detail}; pass the config the "
            f"logs were loaded with"
        )


def _json_safe(value):
    """The result with every NaN or infinity as None, so it is valid JSON."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_safe(v) for v in value]
    return value


def build_report(
    con: duckdb.DuckDBPyConnection, name: str, config: Config, filters: Filters, **options
) -> dict:
    """Report `name` over the selection as a JSON-ready dict.

    Registers the config's prices on `con` first, unless the report's module says it reads
    no spend (`PRICED = False`). Every result has `report`, `filters` and
    `empty`; an empty database or selection gets `empty: true` and a `message` instead of
    the analysis' keys.
    """
    module = report_module(name)
    check_ladder(con, config)
    if getattr(module, "PRICED", True):  # a report that reads no spend skips the prices
        pricing.register(con, config)
    head = {"report": name, "filters": filters.to_json()}
    size = run(con, "selection_size", filters.params())[0]
    if size["attempts_in_store"] == 0:
        return {
            **head,
            "empty": True,
            "message": "The database holds no attempts yet; load logs first: tierwatch ingest PATH",
        }
    if size["tasks"] == 0 and size["attempts"] == 0:
        return {
            **head,
            "empty": True,
            "message": f"No tasks or attempts match the selection ({filters.describe()}); "
            "widen the date range or check the fleet and task type names.",
        }
    result = module.build(con, config, filters, **options)
    return _json_safe({**head, "empty": False, **result})
