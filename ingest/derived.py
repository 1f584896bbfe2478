"""The tables the store derives from the records it holds, in one registry: each table, its
SQL file, what it is built from, and how a load keeps it current. `store.refresh_derived`
runs it, in the same transaction as the file that changed the records; nothing else builds
these tables, and no reader builds a table of its own from the attempts.

- `tasks`: one row per task (ingest/tasks.sql), recomputed for the task ids in temp table
  `touched`.
- The rollups (ingest/rollups/NAME.sql): the price-independent sums the reports and pages
  read instead of every attempt and task. A rollup kept by key holds rows per (day, task
  type, fleet); a load deletes the rows of the keys its records touched (temp table
  `rollup_keys`) and sums those keys again from what the store now holds, so a small append
  rewrites a few rows whatever the store's size. A rollup kept whole sums another, small,
  rollup and is summed whole again.

Prices are not here: spend is priced when a report asks (queries/pricing.py), so the
config's prices can change without a load. A new rollup, or a changed SQL file, comes with a
migration after which the store builds it for every key (`store.migrate`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Derived:
    """A table the store keeps: `sql`, its statement (ingest/NAME), inserts its rows for the
    touched tasks (`kept = "task"`), the touched keys (`"key"`) or all of it (`"whole"`)."""

    name: str
    sql: str
    sources: tuple[str, ...]
    kept: str = "key"


TASKS = Derived("tasks", "tasks.sql", ("attempts", "downstream_failures", "ladder"), "task")

# in build order: each after what it is built from
ROLLUPS: tuple[Derived, ...] = tuple(
    Derived(name, f"rollups/{name}.sql", sources, kept)
    for name, sources, kept in (
        ("task_rollup", ("tasks",), "key"),
        ("task_outcomes_daily", ("tasks",), "key"),
        ("chain_shapes", ("tasks",), "key"),
        ("skip_tier_steps_daily", ("tasks", "ladder"), "key"),
        ("escalation_step_rollup", ("tasks", "ladder"), "key"),
        ("escalation_reason_rollup", ("tasks",), "key"),
        ("accepted_wrong_values", ("tasks",), "key"),
        ("executor_models_daily", ("attempts",), "key"),
        ("executor_confidence_values", ("attempts",), "key"),
        ("executor_confidence_totals", ("executor_confidence_values",), "whole"),
        ("attempt_usage", ("attempts",), "key"),
    )
)

DERIVED: tuple[Derived, ...] = (TASKS, *ROLLUPS)

# What a rollup's (day, task type, fleet) key can be, for the tasks a load touched: a task's
# day and the day of its last executor call, with the task's type and fleet (read before
# and after the tasks are recomputed), and each of its calls' own day, type and fleet. Every
# rollup by key is grouped by one of these; a key that a rollup has no row for costs nothing.
TASK_KEYS = (
    "insert into rollup_keys "
    "select distinct day, task_type, fleet from tasks "
    "where task_id in (select task_id from touched) "
    "union select distinct cast(last_ts as date), task_type, fleet from tasks "
    "where task_id in (select task_id from touched)"
)
CALL_KEYS = (
    "insert into rollup_keys "
    "select distinct cast(ts as date), task_type, fleet from attempts "
    "where task_id in (select task_id from touched)"
)
ALL_KEYS = (
    "insert into rollup_keys "
    "select distinct day, task_type, fleet from tasks "
    "union select distinct cast(last_ts as date), task_type, fleet from tasks "
    "union select distinct cast(ts as date), task_type, fleet from attempts"
)


def _check_order() -> None:
    """Each table comes after the derived tables it is built from."""
    seen: set[str] = set()
    names = {d.name for d in DERIVED}
    for d in DERIVED:
        early = [s for s in d.sources if s in names and s not in seen]
        assert not early, f"{d.name} is built from {early}, which come after it"
        seen.add(d.name)


_check_order()
