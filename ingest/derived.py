"""The tables the store derives from the records it holds, in one registry: each table, its
SQL file, what it is built from, and how a load keeps it current. `store.refresh_derived`
runs it, in the same transaction as the file that changed the records; nothing else builds
these tables, and no reader builds a table of its own from the attempts.

- `tasks`: one row per task (ingest/tasks.sql), recomputed for the task ids in temp table
  `touched`.
- The rollups (ingest/rollups/NAME.sql): the price-independent sums the reports and pages
  read instead of every attempt and task. A rollup kept by key holds rows per (day, task
  type, fleet). For the keys of tasks the store held before, a load deletes the keys' rows
  and sums them again from what the store now holds; for the keys only new tasks touched,
  it sums the new tasks alone and adds those sums to the keys' rows (`measures`), so that
  appending new tasks costs what they hold, not what their days hold. A rollup kept by key
  with no measures holds example rows of the tasks (a bounded few per key, for drill-downs):
  the new tasks are merged by running its file again over its stored rows of the keys and
  the new tasks together. A rollup kept whole sums another, small, rollup and is summed
  whole again.
- Every report and page reads these tables alone (and the store's settings), never the
  attempts or tasks, so a store whose rollups an engine computed over a lake serves them
  without holding a record (ingest/spark_rollup.py, `tierwatch rollup`).
- A rollup's file selects its rows of the keys in temp table `rollup_keys` from the views
  `tasks_in_scope` and `calls_in_scope`: the store's tasks and attempts when keys are summed
  again, the new tasks' when they are added.

Prices are not here: spend is priced when a report asks (queries/pricing.py), so the
config's prices can change without a load. A new rollup, or a changed SQL file, comes with a
migration after which the store builds it for every key (`store.migrate`).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Derived:
    """A table the store keeps. `sql` (a file of ingest/) selects its rows; `kept` says how a
    load keeps it: "task" (the tasks a load touched are recomputed), "key" (its rows of the
    touched (day, task type, fleet) keys) or "whole" (all of it again). `measures`: the
    columns of a rollup kept by key that are sums or counts (the others are its grouping
    columns), so that the rows of new tasks can be added to a key's rows; none for a rollup
    of example rows (its columns are columns of the tasks)."""

    name: str
    sql: str
    sources: tuple[str, ...]
    kept: str = "key"
    measures: tuple[str, ...] = ()


TASKS = Derived("tasks", "tasks.sql", ("attempts", "downstream_failures", "ladder"), "task")

_TOKENS = ("final_uncached_input_tokens", "final_cached_input_tokens", "final_output_tokens")

# in build order: each after what it is built from
ROLLUPS: tuple[Derived, ...] = tuple(
    Derived(name, f"rollups/{name}.sql", sources, kept, measures)
    for name, sources, kept, measures in (
        (
            "task_rollup",
            ("tasks",),
            "key",
            (
                "tasks", "executor_attempts", "failures", "first_pass_failures",
                "downstream_failures", "escalated_tasks", "retried_tasks", "skip_tier_tasks",
                "escalations", "retries", "skip_tier_escalations", "step_downs",
                "rescued_tasks", *_TOKENS,
            ),
        ),
        ("task_outcomes_daily", ("tasks",), "key", ("tasks", "sum_high_confidence", *_TOKENS)),
        ("chain_shapes", ("tasks",), "key", ("tasks", *_TOKENS)),
        ("skip_tier_steps_daily", ("tasks", "ladder"), "key", ("steps", "tasks")),
        ("escalation_step_rollup", ("tasks", "ladder"), "key", ("steps",)),
        ("escalation_reason_rollup", ("tasks",), "key", ("attempts",)),
        ("accepted_wrong_values", ("tasks",), "key", ("attempts",)),
        ("executor_models_daily", ("attempts",), "key", ("attempts",)),
        ("executor_confidence_values", ("attempts",), "key", ("attempts",)),
        ("executor_confidence_totals", ("executor_confidence_values",), "whole", ()),
        (
            "attempt_usage",
            ("attempts",),
            "key",
            (
                "attempts", "logged_attempts", "logged_usd", "uncached_input_tokens",
                "cached_input_tokens", "output_tokens", "downstream_labelled",
            ),
        ),
        ("silent_failure_examples", ("tasks",), "key", ()),
    )
)  # fmt: skip

DERIVED: tuple[Derived, ...] = (TASKS, *ROLLUPS)

# The tasks a load touched whose every stored call and downstream failure came with this
# load (still in the staging tables): new tasks. Their rows are added to the rollups' rows
# of their keys instead of each key being summed again from every task, so appending new
# tasks costs what they hold, not what their days hold.
FRESH_TASKS = """
create or replace temp table fresh_tasks as
select task_id from touched
except
select task_id from (
    select task_id, role, attempt from attempts where task_id in (select task_id from touched)
    except
    select task_id, role, attempt from staging_attempts
)
except
select task_id from (
    select task_id, ts, detected_by from downstream_failures
    where task_id in (select task_id from touched)
    except
    select task_id, ts, detected_by from staging_downstream_failures
)
"""

# What a rollup's (day, task type, fleet) key can be, for the tasks a load touched: a task's
# day and the day of its last executor call, with the task's type and fleet (read before
# and after the tasks are recomputed), and each of its calls' own day, type and fleet. Every
# rollup by key is grouped by one of these; a key that a rollup has no row for costs nothing.
# `fresh`: the key's task is new (FRESH_TASKS).
TASK_KEYS = (
    "insert into rollup_keys "
    "select day, task_type, fleet, task_id in (select task_id from fresh_tasks) from tasks "
    "where task_id in (select task_id from touched) "
    "union select cast(last_ts as date), task_type, fleet, "
    "task_id in (select task_id from fresh_tasks) from tasks "
    "where task_id in (select task_id from touched)"
)
CALL_KEYS = (
    "insert into rollup_keys "
    "select distinct cast(ts as date), task_type, fleet, "
    "task_id in (select task_id from fresh_tasks) from attempts "
    "where task_id in (select task_id from touched)"
)
ALL_KEYS = (
    "insert into rollup_keys "
    "select day, task_type, fleet, false from tasks "
    "union select cast(last_ts as date), task_type, fleet, false from tasks "
    "union select cast(ts as date), task_type, fleet, false from attempts"
)
