"""Attempts and tasks rolled up once per connection, so the calibration, drift,
recommendation and verdict queries read small tables instead of scanning every attempt and
task (as `queries.pricing` does for spend).

`register(con)` creates temp tables `executor_models_daily`, `executor_confidence_values`
and `task_outcomes_daily` (see their SQL files) and keeps them while the data is unchanged:
a second call on the same data does nothing.
"""

from __future__ import annotations

import duckdb

from queries import sql_text

TABLES = ("executor_models_daily", "executor_confidence_values", "task_outcomes_daily")


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the rollups depend on: the data version and the attempts' row count."""
    version = con.execute("select value from meta where key = 'data_version'").fetchone()
    count = con.execute("select count(*) from attempts").fetchone()[0]
    return repr((version, count))


def register(con: duckdb.DuckDBPyConnection) -> None:
    """(Re)create the rollups on `con` unless they are current."""
    fingerprint = _fingerprint(con)
    registered = con.execute(
        "select count(*) from duckdb_tables() where temporary and table_name = 'rollups_state'"
    ).fetchone()[0]
    if registered:
        current = con.execute("select fingerprint from rollups_state").fetchone()
        if current and current[0] == fingerprint:
            return
    for name in TABLES:
        con.execute(sql_text(name))
    con.execute("create or replace temp table rollups_state (fingerprint varchar)")
    con.execute("insert into rollups_state values (?)", [fingerprint])
