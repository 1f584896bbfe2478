"""The what-if simulator as a report: what a routing table would cost per day and month and
how often it would fail (first pass, finally, downstream), per task type and for the fleet,
with 95% intervals, against what was realized (the model: queries/whatif.py)."""

from __future__ import annotations

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import whatif
from tierwatch.queries.filters import Filters, QueryError
from tierwatch.queries.routing_table import routing_table

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
        from tierwatch.queries import recommendations

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
