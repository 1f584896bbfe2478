"""Attempts and tasks rolled up once per connection, so the calibration, drift,
recommendation and verdict queries read small tables instead of scanning every attempt and
task (as `queries.pricing` does for spend).

`register(con, *names)` creates the temp tables named (see their SQL files), each with what
it is built from first, and keeps each while the data is unchanged: a second call on the
same data does nothing. A report asks only for what it reads, so a cold `tierwatch report`
builds no more than it needs.
"""

from __future__ import annotations

import duckdb

from queries import sql_text

# rollup -> the rollups it is built from
TABLES: dict[str, tuple[str, ...]] = {
    "executor_models_daily": (),
    "executor_confidence_values": (),
    "executor_confidence_totals": ("executor_confidence_values",),
    "accepted_wrong_values": (),
    "task_outcomes_daily": (),
    "skip_tier_steps_daily": (),
}
CALIBRATION = ("executor_confidence_totals", "accepted_wrong_values", "task_outcomes_daily")
DRIFT = ("executor_models_daily", "task_outcomes_daily")
TASKS = ("task_outcomes_daily", "skip_tier_steps_daily")


def _fingerprint(con: duckdb.DuckDBPyConnection) -> str:
    """What the rollups depend on: the data version and the attempts' row count."""
    version = con.execute("select value from meta where key = 'data_version'").fetchone()
    count = con.execute("select count(*) from attempts").fetchone()[0]
    return repr((version, count))


def register(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """(Re)create the rollups `names` (all of them when none is named) on `con`, with what
    they are built from, unless they are current."""
    fingerprint = _fingerprint(con)
    con.execute("create temp table if not exists rollups_state (name varchar, fingerprint varchar)")
    current = {
        name
        for (name,) in con.execute(
            "select name from rollups_state where fingerprint = ?", [fingerprint]
        ).fetchall()
    }
    done: set[str] = set()

    def build(name: str) -> None:
        if name in done:
            return
        for dependency in TABLES[name]:
            build(dependency)
        if name not in current or any(d in done - current for d in TABLES[name]):
            con.execute(sql_text(name))
            con.execute("delete from rollups_state where name = ?", [name])
            con.execute("insert into rollups_state values (?, ?)", [name, fingerprint])
        done.add(name)

    for name in names or tuple(TABLES):
        build(name)
