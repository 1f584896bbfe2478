"""The derived tables kept in the store (ingest/derived.py): after any sequence of loads each
rollup equals the same rollup summed again from every task and attempt, small loads rewrite
only the keys they touch, and an older store gains the rollups it lacks when it is next
written."""

from __future__ import annotations

import datetime as dt
import json
import tempfile
from pathlib import Path

import duckdb
import pytest
from fixtures_analytics import attempt, downstream, write_jsonl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwatch.ingest import derived
from tierwatch.ingest import store as store_module
from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import StoreError, open_store, sql_file

CONFIG = load_config(None)
ROLLUPS = [r.name for r in derived.ROLLUPS]


def _rows(con, table: str) -> list[tuple]:
    rows = con.execute(f"select * from {table} order by all").fetchall()
    # sums of doubles may differ in the last place with the order rows were added in
    return [tuple(round(v, 9) if isinstance(v, float) else v for v in r) for r in rows]


def recomputed(con, name: str) -> list[tuple]:
    """Rollup `name` summed from every task and attempt by its own statement, into a scratch
    table (the other rollups it reads are the stored ones)."""
    r = next(r for r in derived.ROLLUPS if r.name == name)
    con.execute("create or replace temp view tasks_in_scope as select * from tasks")
    con.execute("create or replace temp view calls_in_scope as select * from attempts")
    con.execute(
        "create or replace temp table rollup_keys "
        "(day date not null, task_type varchar not null, fleet varchar, fresh boolean)"
    )
    con.execute(derived.ALL_KEYS)
    con.execute(f"create or replace temp table fresh as select * from {name} limit 0")
    con.execute(f"insert into fresh {sql_file(r.sql)}")
    return _rows(con, "fresh")


def stored_and_recomputed(db: Path, name: str) -> tuple[list[tuple], list[tuple]]:
    with duckdb.connect(str(db)) as con:
        return _rows(con, name), recomputed(con, name)


def assert_current(db: Path) -> None:
    for name in ROLLUPS:
        stored, fresh = stored_and_recomputed(db, name)
        assert stored == fresh, name


def load(db, folder, name, records):
    report = ingest_paths(db, [write_jsonl(folder / name, records)], CONFIG)
    assert not report.errors, report.errors
    return report


@pytest.fixture
def store(tmp_path):
    return tmp_path / "t.duckdb"


def test_the_registry_builds_each_table_after_its_sources(store):
    names = [d.name for d in derived.DERIVED]
    for d in derived.DERIVED:
        for source in d.sources:
            if source in names:
                assert names.index(source) < names.index(d.name), (d.name, source)
    # a rollup's file selects its rows (the registry writes them), and what is summed when
    # new tasks' rows are added to a key's are its measures, each a column of the table
    # rows are inserted by position, so its columns come in the table's order
    with open_store(store, read_only=False) as con:
        recomputed(con, "task_rollup")  # the scope views and keys a file reads
        tasks_columns = [d[0] for d in con.execute("select * from tasks limit 0").description]
        for r in derived.ROLLUPS:
            assert "insert into" not in sql_file(r.sql), r.name
            columns = [
                c[0]
                for c in con.execute(
                    "select column_name from duckdb_columns() where table_name = ? "
                    "order by column_index",
                    [r.name],
                ).fetchall()
            ]
            selected = con.execute(f"{sql_file(r.sql)}\nlimit 0").description
            assert [d[0] for d in selected] == columns, r.name
            assert set(r.measures) <= set(columns), r.name
            if r.kept == "key" and not r.measures:
                # a rollup of example rows: merged by running its file over its own rows
                # and the new tasks', so each of its columns is a column of the tasks
                assert set(columns) <= set(tasks_columns), r.name
            else:
                assert (r.kept == "key") == bool(r.measures), r.name


def test_tasks_that_move_between_keys_leave_no_stale_rows(store, tmp_path):
    # file 1: t1's second attempt (on sonnet, 2 March, fleet a) comes first; t2, no fleet
    load(store, tmp_path, "1.jsonl", [
        attempt("t1", "2026-03-02T10:05:00Z", "extract", "sonnet", attempt=2, fleet="a",
                escalation_reason="reviewer_reject"),
        attempt("t2", "2026-03-02T11:00:00Z", "extract", "sonnet"),
    ])  # fmt: skip
    assert_current(store)
    with duckdb.connect(str(store)) as con:
        assert len(_rows(con, "task_rollup")) == 2
    # file 2: t1's first attempt, on haiku on 1 March, moves t1 to another day and first
    # tier (its key changes) and makes it escalated; t2 gets a downstream failure; t3 new
    load(store, tmp_path, "2.jsonl", [
        attempt("t1", "2026-03-01T23:59:00Z", "extract", "haiku", status="failed",
                fleet="a"),
        downstream("t2", "2026-03-03T00:00:00Z"),
        attempt("t3", "2026-03-02T12:00:00Z", "extract", "opus", fleet="b"),
    ])  # fmt: skip
    assert_current(store)
    with duckdb.connect(str(store)) as con:
        days = con.execute(
            "select fleet, day, first_rank, sum(tasks), sum(escalated_tasks), "
            "sum(downstream_failures) from task_rollup group by all order by all"
        ).fetchall()
        steps = con.execute(
            "select fleet, day, from_tier, to_tier, steps from escalation_step_rollup"
        ).fetchall()
        models = con.execute(
            "select fleet, day, tier, attempts from executor_models_daily order by all"
        ).fetchall()
    # t1 now counts on 1 March, first on haiku (rank 1), escalated; no row left for it on
    # 2 March; t2 (no fleet) has its downstream failure
    assert [(f, str(d), r, int(n), int(e), int(x)) for f, d, r, n, e, x in days] == [
        ("a", "2026-03-01", 1, 1, 1, 0),
        ("b", "2026-03-02", 3, 1, 0, 0),
        (None, "2026-03-02", 2, 1, 0, 1),
    ]
    # t1's one step up, haiku -> sonnet, counted on the task's day (1 March), not the day
    # of the call that made it (2 March)
    assert [(f, str(d), a, b, n) for f, d, a, b, n in steps] == [
        ("a", "2026-03-01", "haiku", "sonnet", 1)
    ]
    # the executor calls by their own day: t1's haiku call on 1 March, its sonnet call and
    # t3's and t2's on 2 March
    assert [(f, str(d), t, n) for f, d, t, n in models] == [
        ("a", "2026-03-01", "haiku", 1),
        ("a", "2026-03-02", "sonnet", 1),
        ("b", "2026-03-02", "opus", 1),
        (None, "2026-03-02", "sonnet", 1),
    ]


def test_an_accepted_answer_found_wrong_counts_on_its_tasks_last_call(store, tmp_path):
    # t1: a failed haiku call on 1 March in fleet a, then an accepted sonnet call at 0.9 on
    # 2 March logged under fleet b, later found wrong (a downstream failure on 5 March): one
    # accepted-wrong answer, dated by the last executor call (2 March), on sonnet, at 0.9,
    # in the task's fleet, a (its first call's): a key none of its calls has
    load(store, tmp_path, "1.jsonl", [
        attempt("t1", "2026-03-01T23:00:00Z", "x", "haiku", status="failed", confidence=0.6,
                fleet="a"),
        attempt("t1", "2026-03-02T01:00:00Z", "x", "sonnet", attempt=2, confidence=0.9,
                escalation_reason="reviewer_reject", fleet="b"),
    ])  # fmt: skip
    with duckdb.connect(str(store)) as con:
        assert _rows(con, "accepted_wrong_values") == []
    load(store, tmp_path, "2.jsonl", [downstream("t1", "2026-03-05T00:00:00Z")])
    assert_current(store)
    with duckdb.connect(str(store)) as con:
        rows = con.execute(
            "select day, fleet, tier, confidence_source, confidence, attempts "
            "from accepted_wrong_values"
        ).fetchall()
        totals = con.execute(
            "select tier, confidence, ok, attempts from executor_confidence_totals order by all"
        ).fetchall()
    assert [(str(d), f, t, s, c, n) for d, f, t, s, c, n in rows] == [
        ("2026-03-02", "a", "sonnet", "(not given)", 0.9, 1)
    ]
    # the executor calls' stated confidence, each once: 0.6 failed on haiku, 0.9 ok on sonnet
    assert [(t, c, ok, int(n)) for t, c, ok, n in totals] == [
        ("haiku", 0.6, False, 1),
        ("sonnet", 0.9, True, 1),
    ]


def test_a_retry_on_a_later_day_marks_the_earlier_call_superseded(store, tmp_path):
    # t1's first call, haiku on 1 March, fails; file 2 brings its retry on sonnet on 2 March,
    # which logged its own cost: the 1 March call is now superseded (the escalation tax)
    load(store, tmp_path, "1.jsonl", [
        attempt("t1", "2026-03-01T23:00:00Z", "x", "haiku", status="failed",
                cached_input_tokens=500),
    ])  # fmt: skip
    load(store, tmp_path, "2.jsonl", [
        attempt("t1", "2026-03-02T01:00:00Z", "x", "sonnet", attempt=2, cost_usd=0.01,
                escalation_reason="reviewer_reject"),
    ])  # fmt: skip
    assert_current(store)
    with duckdb.connect(str(store)) as con:
        rows = con.execute(
            "select day, tier, superseded, attempts, logged_attempts, logged_usd, "
            "uncached_input_tokens, cached_input_tokens, output_tokens from attempt_usage "
            "order by day"
        ).fetchall()
    # the haiku call: 2,000 input of which 500 cached, 500 output, no logged cost; the sonnet
    # call: its logged $0.01 and no tokens to price
    assert [(str(d), *rest) for d, *rest in rows] == [
        ("2026-03-01", "haiku", True, 1, 0, None, 1500, 500, 500),
        ("2026-03-02", "sonnet", False, 1, 1, 0.01, None, None, None),
    ]


def test_silent_failure_examples_keep_a_bounded_few_per_key_across_loads(store, tmp_path):
    # ten silent failures (accepted at 0.9, found wrong downstream) on one key, s01 first at
    # 10:01 to s10 at 10:10, and one task accepted and not found wrong: the drill-down keeps
    # the first three by id (s01-s03) and the latest five by first call (s10-s06), never
    # the task that did not fail; s07-s10 come in a second file, as new tasks merged into
    # the key's stored rows
    def silent(i):
        return attempt(f"s{i:02}", f"2026-03-02T10:{i:02}:00Z", "x", "sonnet", fleet="a",
                       confidence=0.9, downstream_failure=True)  # fmt: skip

    load(store, tmp_path, "1.jsonl", [silent(i) for i in range(1, 7)]
         + [attempt("fine", "2026-03-02T10:30:00Z", "x", "sonnet", fleet="a",
                    confidence=0.9)])  # fmt: skip
    with duckdb.connect(str(store)) as con:
        first = [
            r[0]
            for r in con.execute(
                "select task_id from silent_failure_examples order by task_id"
            ).fetchall()
        ]
    assert first == ["s01", "s02", "s03", "s04", "s05", "s06"]  # six: all of them
    load(store, tmp_path, "2.jsonl", [silent(i) for i in range(7, 11)])
    assert_current(store)
    with duckdb.connect(str(store)) as con:
        kept = con.execute(
            "select task_id, day, fleet, final_tier, final_confidence "
            "from silent_failure_examples order by task_id"
        ).fetchall()
    assert [k[0] for k in kept] == ["s01", "s02", "s03", "s06", "s07", "s08", "s09", "s10"]
    assert {k[1:] for k in kept} == {(dt.date(2026, 3, 2), "a", "sonnet", 0.9)}


def test_loading_the_same_records_again_changes_nothing(store, tmp_path):
    records = [attempt(f"t{i}", "2026-03-02T10:00:00Z", "x", "haiku") for i in range(5)]
    load(store, tmp_path, "a.jsonl", records)
    with duckdb.connect(str(store)) as con:
        before = {name: _rows(con, name) for name in ROLLUPS}
    load(store, tmp_path, "b.jsonl", records)  # new bytes name, same records: duplicates
    with duckdb.connect(str(store)) as con:
        assert {name: _rows(con, name) for name in ROLLUPS} == before
    assert_current(store)


def test_a_small_load_rewrites_only_the_keys_it_touches(store, tmp_path):
    load(store, tmp_path, "a.jsonl", [
        attempt("old", "2026-03-01T10:00:00Z", "x", "haiku", fleet="a"),
        attempt("other", "2026-03-01T10:00:00Z", "y", "haiku", fleet="a"),
    ])  # fmt: skip
    with duckdb.connect(str(store)) as con:  # marks a row no refresh would write
        con.execute("update chain_shapes set tasks = 99 where task_type = 'y'")
    load(store, tmp_path, "b.jsonl", [attempt("new", "2026-03-01T11:00:00Z", "x", "opus",
                                              fleet="a")])  # fmt: skip
    with duckdb.connect(str(store)) as con:
        rows = con.execute(
            "select task_type, tier_path, tasks from chain_shapes order by all"
        ).fetchall()
    # (1 March, x, a) was summed again; (1 March, y, a) was not touched, so keeps the mark
    assert rows == [("x", ["haiku"], 1), ("x", ["opus"], 1), ("y", ["haiku"], 99)]


def test_an_older_store_gains_the_rollups_of_what_it_holds(store, tmp_path):
    load(store, tmp_path, "a.jsonl", [
        attempt("t1", "2026-03-02T10:00:00Z", "x", "haiku", confidence=0.7),
        attempt("t2", "2026-03-03T10:00:00Z", "y", "opus", status="failed"),
    ])  # fmt: skip
    with duckdb.connect(str(store)) as con:  # as version 6 left it
        for name in ROLLUPS:
            con.execute(f"drop table {name}")
        con.execute("delete from schema_version where version >= 7")
    load(store, tmp_path, "b.jsonl", [attempt("t3", "2026-03-04T10:00:00Z", "x", "sonnet")])
    assert_current(store)
    with duckdb.connect(str(store)) as con:
        # tasks: t1, t2 from before, t3 new; executor calls: the same three
        assert con.execute("select sum(tasks) from task_outcomes_daily").fetchone()[0] == 3
        assert con.execute("select sum(attempts) from executor_models_daily").fetchone()[0] == 3


def test_a_store_served_from_a_lake_keeps_its_lake_when_an_upgrade_rebuilds_rollups(store):
    # a store `tierwatch rollup` filled holds rollups and no records: an upgrade that
    # rebuilds the rollups cannot sum them from the store, so it forgets the days'
    # fingerprints (the next rollup redoes every day) and keeps which lake it serves, and
    # its rows; a load into it stays refused
    with open_store(store, read_only=False) as con:
        con.execute(
            "insert into lake_partitions (lake, tbl, day, fingerprint) "
            "values ('/data/lake', 'attempts', date '2026-03-02', 'p:1:2')"
        )
        con.execute(
            "insert into task_outcomes_daily (day, task_type, fleet, tasks) "
            "values (date '2026-03-02', 'x', 'a', 7)"
        )
    with duckdb.connect(str(store)) as con:  # as version 9 left it, before migration 010
        con.execute("delete from schema_version where version >= 10")
    with open_store(store, read_only=False) as con:
        assert con.execute("select lake, fingerprint from lake_partitions").fetchall() == [
            ("/data/lake", "")
        ]
        assert con.execute("select sum(tasks) from task_outcomes_daily").fetchone()[0] == 7
        with pytest.raises(StoreError, match="serves the rollups of the lake /data/lake"):
            store_module.check_takes_records(con)


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
    stored, fresh = stored_and_recomputed(store, "task_rollup")
    assert stored == fresh
    assert [r[-3] for r in stored] == [1, 0]  # t1's planner tier haiku is rank 1; t2 has none
    assert_current(store)


# A fleet's calls arriving in files of any split and order: tasks continue across files and
# days, change fleet and type labels as earlier calls arrive, get downstream failures later
TIERS = ("haiku", "sonnet", "opus")
call = st.builds(
    lambda task, day, hour, tier, n, role, status, fleet, kind, conf: attempt(
        f"t{task}",
        f"2026-03-0{day}T{hour:02d}:00:00Z",
        kind,
        tier,
        attempt=n,
        role=role,
        status=status,
        confidence=conf,
        **({"fleet": fleet} if fleet else {}),
    ),
    task=st.integers(0, 5),
    day=st.integers(1, 3),
    hour=st.integers(0, 23),
    tier=st.sampled_from(TIERS),
    n=st.integers(1, 3),
    role=st.sampled_from(["executor", "executor", "reviewer"]),
    status=st.sampled_from(["ok", "ok", "failed"]),
    fleet=st.sampled_from([None, "a", "b"]),
    kind=st.sampled_from(["x", "y"]),
    conf=st.sampled_from([None, 0.5, 0.9]),
)
failure = st.builds(
    lambda task, day: downstream(f"t{task}", f"2026-03-0{day}T12:00:00Z"),
    task=st.integers(0, 5),
    day=st.integers(1, 4),
)


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(files=st.lists(st.lists(st.one_of(call, call, failure), max_size=6), max_size=4))
def test_the_rollups_equal_a_full_recomputation_after_any_loads(files):
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        db = folder / "t.duckdb"
        for i, records in enumerate(files):
            path = write_jsonl(folder / f"{i}.jsonl", records)
            report = ingest_paths(db, [path], CONFIG)
            assert not report.errors, report.errors
        if db.exists():
            assert_current(db)
            with duckdb.connect(str(db)) as con:
                executor_calls = con.execute(
                    "select count(*) from attempts where role = 'executor'"
                ).fetchone()[0]
                counted = con.execute(
                    "select coalesce(sum(attempts), 0) from executor_models_daily"
                ).fetchone()[0]
            assert counted == executor_calls
    assert json.dumps(files)  # the example is plain data, shown as it is on a failure
