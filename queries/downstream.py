"""Which fleets report downstream outcomes at all (downstream_reporting.sql)."""

from __future__ import annotations

import duckdb

from tierwatch.queries import run


def downstream_reporting(con: duckdb.DuckDBPyConnection, params: dict) -> dict:
    """Whether any fleet of the selection reports downstream outcomes, and those that do not
    (downstream_reporting.sql): the summary and the tiers report both say so."""
    rows = run(con, "downstream_reporting", params)
    return {
        "downstream_reported": any(r["reports"] for r in rows),
        "fleets_without_downstream": [r["fleet"] for r in rows if not r["reports"]],
    }
