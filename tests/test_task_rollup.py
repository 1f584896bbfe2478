"""The task rollup kept in the store: after any sequence of loads it equals the rollup
summed again from every task, and a version-6 store gains it when it is next written."""

from __future__ import annotations

import json
from importlib import resources

import duckdb
import pytest
from fixtures_analytics import attempt, downstream, write_jsonl

from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths

CONFIG = load_config(None)
SELECT = "select * from task_rollup order by all"


def recomputed(con) -> list[tuple]:
    """The rollup summed from every task, by the same statement, into a scratch table."""
    sql = (resources.files("tierwatch.ingest") / "task_rollup.sql").read_text("utf-8")
    con.execute("create or replace temp table fresh as select * from task_rollup limit 0")
    con.execute(
        "create or replace temp table rollup_keys as "
        "select distinct day, task_type, fleet from tasks"
    )
    con.execute(sql.replace("insert into task_rollup", "insert into fresh", 1))
    return con.execute("select * from fresh order by all").fetchall()


def load(db, folder, name, records):
    report = ingest_paths(db, [write_jsonl(folder / name, records)], CONFIG)
    assert not report.errors, report.errors
    return report


@pytest.fixture
def store(tmp_path):
    return tmp_path / "t.duckdb"


def stored_and_recomputed(db):
    with duckdb.connect(str(db)) as con:
        return con.execute(SELECT).fetchall(), recomputed(con)


def test_tasks_that_move_between_keys_leave_no_stale_rows(store, tmp_path):
    # file 1: t1's second attempt (on sonnet, 2 March, fleet a) comes first; t2, no fleet
    load(store, tmp_path, "1.jsonl", [
        attempt("t1", "2026-03-02T10:05:00Z", "extract", "sonnet", attempt=2, fleet="a",
                escalation_reason="reviewer_reject"),
        attempt("t2", "2026-03-02T11:00:00Z", "extract", "sonnet"),
    ])  # fmt: skip
    stored, fresh = stored_and_recomputed(store)
    assert stored == fresh and len(stored) == 2
    # file 2: t1's first attempt, on haiku on 1 March, moves t1 to another day and first
    # tier (its key changes) and makes it escalated; t2 gets a downstream failure; t3 new
    load(store, tmp_path, "2.jsonl", [
        attempt("t1", "2026-03-01T23:59:00Z", "extract", "haiku", status="failed",
                fleet="a"),
        downstream("t2", "2026-03-03T00:00:00Z"),
        attempt("t3", "2026-03-02T12:00:00Z", "extract", "opus", fleet="b"),
    ])  # fmt: skip
    stored, fresh = stored_and_recomputed(store)
    assert stored == fresh
    with duckdb.connect(str(store)) as con:
        days = con.execute(
            "select fleet, day, first_rank, sum(tasks), sum(escalated_tasks), "
            "sum(downstream_failures) from task_rollup group by all order by all"
        ).fetchall()
    # t1 now counts on 1 March, first on haiku (rank 1), escalated; no row left for it on
    # 2 March; t2 (no fleet) has its downstream failure
    assert [(f, str(d), r, int(n), int(e), int(x)) for f, d, r, n, e, x in days] == [
        ("a", "2026-03-01", 1, 1, 1, 0),
        ("b", "2026-03-02", 3, 1, 0, 0),
        (None, "2026-03-02", 2, 1, 0, 1),
    ]


def test_loading_the_same_file_again_changes_nothing(store, tmp_path):
    records = [attempt(f"t{i}", "2026-03-02T10:00:00Z", "x", "haiku") for i in range(5)]
    load(store, tmp_path, "a.jsonl", records)
    before = stored_and_recomputed(store)[0]
    load(store, tmp_path, "b.jsonl", records)  # new bytes name, same records: duplicates
    stored, fresh = stored_and_recomputed(store)
    assert stored == before == fresh


def test_a_version_6_store_gains_the_rollup_of_what_it_holds(store, tmp_path):
    load(store, tmp_path, "a.jsonl", [
        attempt("t1", "2026-03-02T10:00:00Z", "x", "haiku"),
        attempt("t2", "2026-03-03T10:00:00Z", "y", "opus", status="failed"),
    ])  # fmt: skip
    with duckdb.connect(str(store)) as con:  # as version 6 left it
        con.execute("drop table task_rollup")
        con.execute("delete from schema_version where version >= 7")
    load(store, tmp_path, "b.jsonl", [attempt("t3", "2026-03-04T10:00:00Z", "x", "sonnet")])
    stored, fresh = stored_and_recomputed(store)
    assert stored == fresh
    assert sum(row[3] for row in stored) == 3  # tasks: t1, t2 from before, t3 new


def test_the_rollup_lines_up_with_the_tasks_table(store, tmp_path):
    # hand count: 3 tasks, one failed, over two task types
    load(store, tmp_path, "a.jsonl", [
        attempt("t1", "2026-03-02T10:00:00Z", "x", "haiku", planner_tier="haiku"),
        attempt("t2", "2026-03-02T10:00:00Z", "x", "haiku", status="failed"),
        attempt("t3", "2026-03-02T10:00:00Z", "y", "opus", planner_tier="opus"),
    ])  # fmt: skip
    with duckdb.connect(str(store)) as con:
        rows = con.execute(
            "select task_type, planner_rank, first_rank, tasks, failures from task_rollup "
            "order by all"
        ).fetchall()
    # ranks: haiku 1, opus 3; planner_rank 0 = not given
    assert rows == [("x", 0, 1, 1, 1), ("x", 1, 1, 1, 0), ("y", 3, 3, 1, 0)]
    assert json.dumps([list(r) for r in rows])  # plain values, no hugeint surprises


# one task's three calls of attempt 1, each naming its own agent and planner tier, and the
# executor's second attempt: by the rule in ingest/tasks.sql (attempt order, then executor,
# planner, reviewer) the task's agent is the executor's of attempt 1, "exec-1", and its
# planner tier that call's, "haiku", whatever order the file lists them in
CALLS = [
    attempt("t1", "2026-03-02T10:00:00Z", "x", "haiku", role="reviewer", agent="review-bot",
            planner_tier="opus"),
    attempt("t1", "2026-03-02T09:59:00Z", "x", "haiku", role="planner", agent="plan-bot",
            planner_tier="sonnet"),
    attempt("t1", "2026-03-02T09:59:30Z", "x", "haiku", agent="exec-1", planner_tier="haiku"),
    attempt("t1", "2026-03-02T10:01:00Z", "x", "sonnet", attempt=2, agent="exec-2",
            planner_tier="sonnet", escalation_reason="reviewer_reject"),
]  # fmt: skip


@pytest.mark.parametrize("order", [(0, 1, 2, 3), (3, 2, 1, 0), (1, 3, 0, 2)])
def test_a_tasks_labels_do_not_depend_on_the_order_of_its_calls(tmp_path, order):
    db = tmp_path / "t.duckdb"
    load(db, tmp_path, "calls.jsonl", [CALLS[i] for i in order])
    with duckdb.connect(str(db)) as con:
        row = con.execute("select agent, planner_tier from tasks").fetchall()
    assert row == [("exec-1", "haiku")]


def test_a_version_7_store_recomputes_its_task_labels(store, tmp_path):
    load(store, tmp_path, "calls.jsonl", CALLS)
    with duckdb.connect(str(store)) as con:  # as an older tierwatch could have left it
        con.execute("update tasks set agent = 'review-bot', planner_tier = 'opus'")
        con.execute("update task_rollup set planner_rank = 3")
        con.execute("delete from schema_version where version >= 8")
    load(store, tmp_path, "more.jsonl", [attempt("t2", "2026-03-03T10:00:00Z", "y", "opus")])
    with duckdb.connect(str(store)) as con:
        rows = con.execute("select task_id, agent, planner_tier from tasks order by 1").fetchall()
    assert rows == [("t1", "exec-1", "haiku"), ("t2", None, None)]
    stored, fresh = stored_and_recomputed(store)
    assert stored == fresh
    assert [r[-3] for r in stored] == [1, 0]  # t1's planner tier haiku is rank 1; t2 has none
