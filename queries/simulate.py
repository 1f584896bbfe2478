"""The what-if simulator as a report: what a routing table would cost per day and month and
how often it would fail (first pass, finally, downstream), per task type and for the fleet,
with 95% intervals, against what was realized (the model: queries/whatif.py)."""

from __future__ import annotations

import duckdb

from ingest.config import Config
from queries import whatif
from queries.filters import Filters, QueryError
from queries.report import fmt_rate, fmt_usd, format_table
from queries.routing_table import routing_table

TABLE_SOURCES = ("flags", "observed", "recommendations")

NUMBERS = frozenset(
    {
        "cost_per_task_usd",
        "days",
        "downstream_failure_rate",
        "downstream_failures_per_day",
        "escalations_per_task",
        "executor_cost_per_task_usd",
        "failure_adjusted_usd_per_day",
        "failure_cost_usd",
        "failure_rate",
        "final_failure_rate",
        "first_pass_failure_rate",
        "known_share_of_tasks",
        "realized_downstream_failure_rate",
        "realized_downstream_failures_per_day",
        "realized_failure_rate",
        "realized_final_failure_rate",
        "realized_first_pass_failure_rate",
        "realized_usd_per_day",
        "tasks",
        "tasks_per_day",
        "usd_per_day",
        "usd_per_month",
    }
)


def table_from(con, ev: whatif.Evidence, source: str, filters: Filters) -> dict:
    """The routing table named by `source`: 'observed' (the tier each type started on most),
    'flags' (the routing table with the re-tiering flags applied), 'recommendations' (each
    tier_up or tier_down_candidate move made)."""
    if source == "observed":
        return whatif.observed_table(ev)
    if source == "flags":
        return {
            r.task_type: whatif.Route(r.task_type, r.routed_tier)
            for r in routing_table(con, filters)
            if r.task_type in ev.types
        }
    if source == "recommendations":
        from queries import recommendations

        table = whatif.observed_table(ev)
        for rec in recommendations.build(con, ev.config, filters)["recommendations"]:
            if rec["action"] in ("tier_up", "tier_down_candidate") and rec["task_type"] in table:
                table[rec["task_type"]] = whatif.Route(rec["task_type"], rec["to_tier"])
        return table
    raise QueryError(f"unknown table source {source!r}; use a file or one of {TABLE_SOURCES}")


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters,
    table: dict | str = "flags",
    **options,
) -> dict:
    """The simulate report (keys in docs/reports.md#simulate). `table`: task type -> Route,
    or one of TABLE_SOURCES."""
    ev = whatif.evidence(con, config, filters)
    source = table if isinstance(table, str) else "file"
    routes = table_from(con, ev, table, filters) if isinstance(table, str) else table
    result = whatif.simulate(ev, routes)
    return {
        "table_source": source,
        "settings": {
            "prior_tasks": ev.prior_tasks,
            "failure_cost_usd": ev.failure_cost,
            "draws": whatif.DRAWS,
        },
        "not_in_selection": sorted(t for t in routes if t not in ev.types),
        **result,
    }


def _ci_usd(value, ci) -> str:
    if value is None:
        return "unknown"
    if not ci:
        return fmt_usd(value)
    return f"{fmt_usd(value)} [{fmt_usd(ci[0])}–{fmt_usd(ci[1])}]"


def _rate(row, name) -> str:
    value = row.get(f"{name}_rate")
    return "unknown" if value is None else fmt_rate(value, row.get(f"{name}_rate_ci"))


def render(result: dict) -> str:
    """The simulation as text: the fleet against realized, then each task type."""
    out = [
        f"What-if over {result['days']} day(s) ({result['first_day']} to {result['last_day']}), "
        f"{result['tasks_per_day']:,.1f} tasks a day; table: {result['table_source']}",
        "",
        format_table(
            "The fleet (95% intervals)",
            [
                ("", lambda r: r[0]),
                ("simulated", lambda r: r[1]),
                ("realized", lambda r: r[2]),
            ],
            [
                (
                    "cost per day",
                    _ci_usd(result["usd_per_day"], result["usd_per_day_ci"]),
                    fmt_usd(result["realized_usd_per_day"]),
                ),
                ("cost per month", _ci_usd(result["usd_per_month"], None), ""),
                (
                    "failure rate",
                    _rate(result, "failure"),
                    fmt_rate(result["realized_failure_rate"]),
                ),
                (
                    "first-pass failure",
                    _rate(result, "first_pass_failure"),
                    fmt_rate(result["realized_first_pass_failure_rate"]),
                ),
                (
                    "downstream failures per day",
                    "unknown"
                    if result["downstream_failures_per_day"] is None
                    else f"{result['downstream_failures_per_day']:,.1f}",
                    f"{result['realized_downstream_failures_per_day']:,.1f}",
                ),
            ],
        ),
    ]
    if result["unknown_task_types"]:
        out.append(
            "UNKNOWN: no task ever ran on the tier the table gives "
            + ", ".join(result["unknown_task_types"])
            + ": the fleet's totals are unknown until it does (tierwatch optimize plans it)."
        )
    if result["not_in_selection"]:
        out.append("Not in the selection (ignored): " + ", ".join(result["not_in_selection"]))
    out += [
        "",
        format_table(
            "By task type (simulated, with the realized tier and cost beside it)",
            [
                ("task_type", lambda r: r["task_type"]),
                ("tier", lambda r: r["tier"] + ("" if r["changed"] else " (as run)")),
                ("was", lambda r: r["realized_tier"]),
                ("per day", lambda r: _ci_usd(r["usd_per_day"], r["usd_per_day_ci"])),
                ("realized", lambda r: fmt_usd(r["realized_usd_per_day"])),
                ("failure", lambda r: _rate(r, "failure")),
                ("realized failure", lambda r: fmt_rate(r["realized_failure_rate"])),
                ("evidence", lambda r: _evidence(r)),
            ],
            result["task_types"],
        ),
    ]
    return "\n".join(out)


def _evidence(row) -> str:
    sources = {e["source"] for e in row["estimates"]}
    if "unknown" in sources:
        return "unknown"
    return "borrowed in part" if "borrowed" in sources else "observed"
