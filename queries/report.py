"""The reports: each analysis by name, built as JSON-ready dicts and rendered as text.

Every analysis module `queries/<name>.py` has `build(con, config, filters, **options) ->
dict` and `render(result) -> str`. Modules are imported by name only when asked for, so a
report whose module does not exist yet fails with QueryError, not an ImportError at start.
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Callable, Sequence
from types import ModuleType

import duckdb

from ingest.config import Config
from ingest.store import stored_ladder
from queries import pricing, run
from queries.filters import Filters, QueryError
from queries.labels import LABELS

# name -> (module, what it answers), in the order a reader meets them
REPORTS: dict[str, tuple[str, str]] = {
    "summary": ("queries.summary", "tasks, attempts, tier mix, failure, escalation, cost per day"),
    "tiers": ("queries.tiers", "failure by planner-assigned and executed tier"),
    "escalations": ("queries.escalations", "escalation hotspots per task type"),
    "costs": ("queries.costs", "realized vs counterfactual cost per tier"),
    "calibration": ("queries.calibration", "confidence calibration per tier"),
    "drift": ("queries.drift", "model version changes and stale routing evidence"),
    "recommendations": ("queries.recommendations", "re-tiering recommendations per task type"),
    "verdict": ("queries.verdict", "should this fleet route at all?"),
    "simulate": ("queries.simulate", "what the routing table (flags applied) would cost and fail"),
    "frontier": ("queries.frontier", "one-tier fleets, routings and the oracle on cost x failure"),
    "optimize": (
        "queries.optimize",
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


def check_ladder(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """QueryError when the store was built with tiers the config does not know."""
    stored = stored_ladder(con)
    if stored and stored != config.ladder:
        unknown = [t for t in stored if t not in config.ladder]
        detail = f" (unknown tier {', '.join(map(repr, unknown))})" if unknown else ""
        raise QueryError(
            f"this database was built with the ladder {' < '.join(stored)}, but the config "
            f"({config.source}) has {' < '.join(config.ladder)}{detail}; pass the config the "
            f"logs were loaded with (--config)"
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

    Registers the config's prices on `con` first. Every result has `report`, `filters` and
    `empty`; an empty database or selection gets `empty: true` and a `message` instead of
    the analysis' keys.
    """
    module = report_module(name)
    check_ladder(con, config)
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
            "widen --since/--until or check the --fleet and --task-type names.",
        }
    result = module.build(con, config, filters, **options)
    return _json_safe({**head, "empty": False, **result})


def render_text(name: str, result: dict) -> str:
    """Report `name`'s result as human-readable text (its message when it is empty)."""
    if result.get("empty"):
        return result["message"]
    return report_module(name).render(result)


# A CI gate: a condition on a report's numbers that should fail the build.

_CONDITION = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPERATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ROW_LABELS = ("task_type", "planner_tier", "executed_tier", "tier", "name")


def gate_failures(result: dict, condition: str) -> list[str]:
    """Where `condition` (`KEY>NUMBER`, also `>=`, `<`, `<=`; e.g. `escalation_rate>0.3`)
    holds in a report result: in its top-level numbers and in every row of its lists that
    has KEY, one sentence each. A null value (an undefined rate) never matches. QueryError
    for a condition that cannot be read or a KEY the result does not have."""
    match = _CONDITION.match(condition)
    if not match:
        raise QueryError(
            f"--fail-on {condition!r} is not a condition; write KEY>NUMBER (or >=, <, <=), "
            f"e.g. --fail-on 'escalation_rate>0.3'"
        )
    key, op, limit = match.group(1), match.group(2), float(match.group(3))
    name = result.get("report")
    numbers = report_module(name).NUMBERS
    if key not in numbers:
        raise QueryError(
            f"--fail-on {condition!r}: the {name} report has no number {key!r}; its numbers "
            f"are {', '.join(sorted(numbers))}"
        )
    if result.get("empty"):
        return []
    rows = [("overall", result)] + [
        (list_name, row)
        for list_name, value in result.items()
        if isinstance(value, list)
        for row in value
        if isinstance(row, dict)
    ]
    found = [(where, row) for where, row in rows if key in row]
    failures = []
    for where, row in found:
        value = row[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if _OPERATORS[op](value, limit):
            label = " ".join([where] + [f"{k} {row[k]!r}" for k in _ROW_LABELS if k in row])
            small = " (small sample)" if row.get("small_sample") else ""
            failures.append(f"{label}: {key} {value:g} {op} {limit:g}{small}")
    return failures


# Text helpers the analysis modules share for their `render`.


def fmt_rate(rate: float | None, ci: Sequence[float] | None = None) -> str:
    """`12.5% [8.1%–18.9%]`, or `–` for an undefined rate."""
    if rate is None:
        return "–"
    text = f"{rate:.1%}"
    if ci is not None:
        text += f" [{ci[0]:.1%}–{ci[1]:.1%}]"
    return text


def fmt_usd(value: float | None) -> str:
    if value is None:
        return "–"
    return f"${value:,.2f}" if abs(value) >= 0.1 or value == 0 else f"${value:,.4f}"


def _cell(value) -> str:
    """A table cell: counts with thousands separators, everything else as its text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def format_table(
    title: str,
    columns: Sequence[tuple[str, Callable[[dict], object]]],
    rows: Sequence[dict],
) -> str:
    """A plain-text table: `title`, then one line per row; each column is (header, getter)."""
    cells = [[_cell(get(row)) for _, get in columns] for row in rows]
    # a header that is a report key is shown by its label, as the dashboard shows it; every
    # header starts with a capital, as the dashboard's do
    headers = [LABELS.get(h) or h[:1].upper() + h[1:] for h, _ in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    # a column of numbers (counts, rates, dollars) is right-aligned, text left-aligned
    numeric = [
        all(re.match(r"^[-+$]?[\d.,]+%?( \[|$)", r[i]) or r[i] in ("", "–") for r in cells)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [title, line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells] if cells else ["(none)"]
    return "\n".join(out)
