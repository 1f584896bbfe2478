"""Attempts and tasks rolled up once per connection, so the calibration, drift,
recommendation and verdict queries read small tables instead of scanning every attempt and
task (as the other reports do with `queries.ensure_table`).

`register(con, *names)` builds the temp tables named (see their SQL files), each after what
it is built from, through `queries.ensure_table`: once per connection, again when the data
change. A report asks only for what it reads, so a cold `tierwatch report` builds no more
than it needs.
"""

from __future__ import annotations

import duckdb

from tierwatch.queries import data_key, ensure_table

# rollup -> the rollups it is built from
TABLES: dict[str, tuple[str, ...]] = {
    "executor_models_daily": (),
    "executor_confidence_values": (),
    "executor_confidence_totals": ("executor_confidence_values",),
    "accepted_wrong_values": (),
    "task_outcomes_daily": (),
    "skip_tier_steps_daily": (),
    "chain_shapes": (),
}
CALIBRATION = ("executor_confidence_totals", "accepted_wrong_values", "task_outcomes_daily")
DRIFT = ("executor_models_daily", "task_outcomes_daily")
TASKS = ("task_outcomes_daily", "skip_tier_steps_daily")


def register(con: duckdb.DuckDBPyConnection, *names: str) -> None:
    """Build the rollups `names` (all of them when none is named) on `con`, each after its
    sources, unless they are current for the data."""
    key = data_key(con)
    done: set[str] = set()

    def build(name: str) -> None:
        if name in done:
            return
        for source in TABLES[name]:
            build(source)
        ensure_table(con, name, key)
        done.add(name)

    for name in names or tuple(TABLES):
        build(name)
