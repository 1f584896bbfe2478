"""Spark computes the task facts and every rollup of the registry from a lake exactly as
DuckDB does from the store, from the same SQL files (ingest/spark_rollup.py).

The expected rows are not worked out here: they are DuckDB's own `tasks` and rollups, which
tests/test_derived_tables.py and the analyses' tests check by hand. This test checks the
other engine against them, row for row: exact for names, counts and integer sums, within
1e-9 for the few real numbers (confidence), on the sample fleet (four fleets, a month, every
planted failure mode) and on test_lake's hostile fleet.
"""

from __future__ import annotations

import decimal
import math
from pathlib import Path

import pytest
import sqlglot
from spark_session import local_spark
from test_lake import RECORDS, _store

from tierwatch.ingest import derived
from tierwatch.ingest.config import load_config
from tierwatch.ingest.lake import export_lake
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.spark_rollup import SparkSqlError, rollup_tables, spark_text, task_tables
from tierwatch.ingest.store import open_store, sql_file

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"


@pytest.fixture(scope="module")
def spark():
    session = local_spark()
    yield session
    session.stop()


def _plain(value):
    """A value as both engines' rows can be compared: lists as tuples, big integers as int."""
    if isinstance(value, list | tuple):
        return tuple(_plain(v) for v in value)
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _same(a: tuple, b: tuple) -> bool:
    return len(a) == len(b) and all(
        math.isclose(x, y, rel_tol=0, abs_tol=1e-9)
        if isinstance(x, float) and isinstance(y, float)
        else x == y
        for x, y in zip(a, b, strict=True)
    )


def _compare(duck_rows, duck_columns, spark_frame, key):
    """Both engines' rows, keyed by `key` (column names), compared column by column."""
    assert [f.name for f in spark_frame.schema.fields] == duck_columns
    spark_rows = [tuple(_plain(v) for v in r) for r in spark_frame.collect()]
    duck_rows = [tuple(_plain(v) for v in r) for r in duck_rows]
    at = [duck_columns.index(k) for k in key]

    def keyed(rows):
        out = {}
        for r in rows:
            k = tuple("\0null" if r[i] is None else r[i] for i in at)
            assert k not in out, f"two rows for {k}"
            out[k] = r
        return out

    duck, sparks = keyed(duck_rows), keyed(spark_rows)
    assert sorted(duck) == sorted(sparks)
    differ = [
        (
            k,
            [
                (c, x, y)
                for c, x, y in zip(duck_columns, duck[k], sparks[k], strict=True)
                if not _same((x,), (y,))
            ],
        )
        for k in duck
        if not _same(duck[k], sparks[k])
    ]
    assert not differ, f"{len(differ)} rows differ (column, DuckDB, Spark): {differ[:3]}"
    return len(duck)


def _compare_all(duck_rows, duck_columns, spark_frame) -> int:
    """Both engines' rows of a rollup with no one-column key, as sorted lists compared row
    by row (reals within 1e-9)."""
    assert [f.name for f in spark_frame.schema.fields] == duck_columns

    def order(r):
        return tuple(
            ("", round(v, 6))
            if isinstance(v, float)
            else ("\0null", "")
            if v is None
            else (type(v).__name__, v)
            for v in r
        )

    spark_rows = sorted((tuple(_plain(v) for v in r) for r in spark_frame.collect()), key=order)
    duck_rows = sorted((tuple(_plain(v) for v in r) for r in duck_rows), key=order)
    assert len(spark_rows) == len(duck_rows)
    differ = [(d, p) for d, p in zip(duck_rows, spark_rows, strict=True) if not _same(d, p)]
    assert not differ, f"{len(differ)} rows differ (DuckDB, Spark): {differ[:3]}"
    return len(duck_rows)


def _every_rollup(spark, db: Path, lake: Path) -> dict[str, int]:
    """Every rollup of the registry, by both engines from the same lake: rows compared."""
    with open_store(db) as con:
        ladder = tuple(
            r[0] for r in con.execute("select name from ladder order by rank").fetchall()
        )
        duck = {
            r.name: (con.execute(f"select * from {r.name}").fetchall(),
                     [d[0] for d in con.description])
            for r in derived.ROLLUPS
        }  # fmt: skip
    frames = rollup_tables(spark, lake, ladder)
    return {name: _compare_all(*duck[name], frames[name]) for name in duck}


def _both_engines(spark, db: Path, lake: Path) -> dict[str, int]:
    with open_store(db) as con:
        export_lake(con, lake)
        ladder = tuple(
            r[0] for r in con.execute("select name from ladder order by rank").fetchall()
        )
        duck = {
            name: (con.execute(f"select * from {name}").fetchall(),
                   [d[0] for d in con.description])
            for name in ("tasks", "task_rollup")
        }  # fmt: skip
    tasks, rollup = task_tables(spark, lake, ladder)
    return {
        "tasks": _compare(*duck["tasks"], tasks, ["task_id"]),
        "task_rollup": _compare(
            *duck["task_rollup"],
            rollup,
            ["day", "task_type", "fleet", "planner_rank", "first_rank", "final_rank"],
        ),
    }


def test_the_sample_fleet_rolls_up_the_same_on_spark(spark, tmp_path):
    db = tmp_path / "sample.duckdb"
    report = ingest_paths(db, [SAMPLE], load_config(None))
    assert report.totals["rejected"] == 0
    counts = _both_engines(spark, db, tmp_path / "lake")
    # the sample's tasks (docs/sample-data.md: four fleets over 30 days) all arrive
    with open_store(db) as con:
        tasks = con.execute("select count(*) from tasks").fetchone()[0]
    assert counts["tasks"] == tasks > 5000
    assert counts["task_rollup"] > 100
    rollups = _every_rollup(spark, db, tmp_path / "lake")
    assert rollups["task_rollup"] == counts["task_rollup"]
    assert all(rollups[r.name] > 0 for r in derived.ROLLUPS), rollups  # each has rows to compare


def test_a_hostile_fleet_rolls_up_the_same_on_spark(spark, tmp_path):
    db = _store(tmp_path, RECORDS)
    counts = _both_engines(spark, db, tmp_path / "lake")
    # t1 (escalated haiku -> sonnet, reported downstream), t2, t3 (no fleet), t4
    assert counts == {"tasks": 4, "task_rollup": 4}
    rollups = _every_rollup(spark, db, tmp_path / "lake")
    assert rollups["escalation_step_rollup"] == 1  # t1's one step, haiku -> sonnet


def test_ordered_lists_keep_their_order_and_null_on_spark(spark):
    text = spark_text(
        "select g, list(v order by k) as vs, list(v order by k) filter (where k > 1) as late "
        "from (values (1, 3, 'c'), (1, 1, 'a'), (1, 2, null), (2, 1, 'x')) as t(g, k, v) "
        "group by g order by g"
    )
    rows = [tuple(r) for r in spark.sql(text).collect()]
    # by hand: group 1 ordered by k is a, NULL, c (NULL kept, as DuckDB keeps it); after
    # k > 1: NULL, c. Group 2 has no k > 1: no list at all (NULL), not an empty one
    assert rows == [(1, ["a", None, "c"], [None, "c"]), (2, ["x"], None)]


def test_what_the_rewrite_cannot_carry_is_refused_by_name():
    with pytest.raises(SparkSqlError, match="only ascending keys"):
        spark_text("select list(v order by k desc) from t")
    with pytest.raises(SparkSqlError, match="exclude needs a CTE"):
        spark_text("select * exclude (a) from some_table")
    # a plain statement passes through sqlglot untouched by the pass
    assert (
        spark_text("select 1 as one")
        == sqlglot.transpile("select 1 as one", read="duckdb", write="spark", pretty=True)[0]
    )


def test_a_filter_by_a_view_of_every_task_is_left_out_and_no_other():
    whole = frozenset({"touched"})
    text = spark_text(
        "select * from a where a.role = 'executor' and a.task_id in (select task_id from touched)",
        whole=whole,
    )
    assert "touched" not in text and "TRUE" in text
    # filters that may drop rows stay: another view, a where clause, another column
    for kept in (
        "select * from a where task_id in (select task_id from other)",
        "select * from a where task_id in (select task_id from touched where day > 1)",
        "select * from a where task_id in (select plan_id from touched)",
    ):
        assert "IN (" in spark_text(kept, whole=whole)
    # ingest/tasks.sql reads touched three times; none is left for Spark to join
    assert "touched" not in spark_text(sql_file("tasks.sql"), whole=whole)
    assert spark_text(sql_file("tasks.sql")).count("touched") == 3
