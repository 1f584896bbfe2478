"""`tierwatch rollup --engine spark`: a lake's rollups computed by Apache Spark and served
from a store that holds no records (ingest/lake_rollup.py, docs/scale.md).

Each run is the real command in its own process, Spark on local[2]. What is expected is
worked out apart from the code under test: the reports of the store `tierwatch ingest`
filled with the same records (every report's JSON must be equal), the days and counts by
reading the records below, and the reasons for refused rows by `tierwatch ingest`'s own
rejects of the same records.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest
from test_browser import (
    PAGES,
    assert_no_error,
    browser_page,
    dashboard_server,
    require_chromium,
    screenshot,
    settle,
)
from test_lake import _store

from tierwatch.ingest import derived
from tierwatch.ingest.config import load_config
from tierwatch.ingest.lake import export_lake
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import open_store

pytest.importorskip("pyspark", reason="pyspark is not installed (pip install 'tierwatch[spark]')")
if subprocess.run(["which", "java"], capture_output=True).returncode != 0:
    pytest.skip("Spark needs Java 17; .ci/run installs it from Debian", allow_module_level=True)

SAMPLE = Path(__file__).resolve().parent.parent / "sample_data"
REPORTS = ["summary", "tiers", "escalations", "costs", "calibration", "drift",
           "recommendations", "verdict", "simulate", "frontier", "optimize"]  # fmt: skip
# small lakes: compiling each plan's Java costs more than it saves (same results)
SPARK = ["--conf", "spark.sql.codegen.wholeStage=false",
         "--conf", "spark.sql.shuffle.partitions=4",
         "--conf", "spark.ui.enabled=false",
         "--conf", "spark.driver.bindAddress=127.0.0.1",
         "--conf", "spark.driver.host=127.0.0.1"]  # fmt: skip


def tierwatch(*args, cwd: Path, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tierwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def rollup(lake: Path, db: Path, *args) -> subprocess.CompletedProcess:
    run = tierwatch("rollup", "--lake", str(lake), "--db", str(db), *SPARK, *args, cwd=db.parent)
    assert "Traceback" not in run.stderr, run.stderr[-3000:]
    return run


def report(db: Path, name: str) -> dict:
    run = tierwatch("report", name, "--json", "--db", str(db), cwd=db.parent, timeout=120)
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout)


def _close(a, b) -> bool:
    """Two reports' JSON equal, reals within 1e-9 (sums of doubles in another order)."""
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def assert_same_reports(ingested: Path, served: Path) -> None:
    for name in REPORTS:
        a, b = report(ingested, name), report(served, name)
        assert _close(a, b), (name, json.dumps(a)[:400], json.dumps(b)[:400])


def assert_same_rollups(ingested: Path, served: Path) -> None:
    for r in derived.ROLLUPS:
        rows = []
        for db in (ingested, served):
            with duckdb.connect(str(db), read_only=True) as con:
                got = con.execute(f"select * from {r.name} order by all").fetchall()
            rows.append([tuple(round(v, 9) if isinstance(v, float) else v for v in x)
                         for x in got])  # fmt: skip
        assert rows[0] == rows[1], r.name


def stable_text(page) -> str:
    """The page's text once it stops changing (sections below the first chart may still be
    drawing when the script run has ended)."""
    main = page.locator('[data-testid="stMain"]')
    text = main.inner_text()
    for _ in range(30):
        time.sleep(1)
        now = main.inner_text()
        if now == text:
            return now
        text = now
    return text


def test_the_sample_fleet_served_from_a_lake_reports_as_the_ingested_store(tmp_path):
    ingested = tmp_path / "ingested.duckdb"
    assert ingest_paths(ingested, [SAMPLE], load_config(None)).totals["rejected"] == 0
    with open_store(ingested) as con:
        export_lake(con, tmp_path / "lake")
        attempts, failures, days, tasks = con.execute(
            "select (select count(*) from attempts), (select count(*) from "
            "downstream_failures), (select count(distinct cast(ts as date)) from attempts), "
            "(select count(*) from tasks)"
        ).fetchone()
    served = tmp_path / "served.duckdb"
    run = rollup(tmp_path / "lake", served)
    assert run.returncode == 0, run.stderr[-2000:]
    lines = run.stdout.splitlines()
    assert lines[0].startswith(f"rolled up {days} days of ")
    assert lines[0].endswith("(the store has rolled up nothing of this lake yet)")
    assert lines[1] == f"attempts: read {attempts:,}, rejected 0, duplicates 0"
    assert lines[2] == f"downstream failures: read {failures:,}, rejected 0, duplicates 0"
    with duckdb.connect(str(served), read_only=True) as con:
        assert con.execute("select count(*) from attempts").fetchone()[0] == 0  # no records
    assert_same_rollups(ingested, served)
    assert_same_reports(ingested, served)
    # every page in a real browser says the same of both stores (its text: every number,
    # table and caption), and shows no error
    require_chromium()
    pages = {}
    with (
        dashboard_server(ingested) as first,
        dashboard_server(served) as second,
        browser_page() as page,
    ):

        def text_of(url: str, path: str, title: str) -> str:
            page.goto(f"{url}/{path}")
            settle(page)
            assert page.locator("h1").first.inner_text().strip() == title
            assert_no_error(page)
            return stable_text(page)

        for path, title in PAGES:
            if path == "upload":
                continue
            for _ in range(3):  # a section still drawing on a busy machine: look again
                pages[path] = (text_of(first, path, title), text_of(second, path, title))
                if pages[path][0] == pages[path][1]:
                    break
            screenshot(page, f"lake-served-{path or 'overview'}")
            assert pages[path][1] == pages[path][0], path
    assert f"{tasks:,} tasks of" in pages[""][1]  # the pages are not empty


def test_a_second_run_rolls_up_only_the_days_whose_files_changed(tmp_path):
    ingested = _store(tmp_path)  # test_lake's fleet: days 1-3 March, a failure on the 4th
    lake, served = tmp_path / "lake", tmp_path / "served.duckdb"
    with open_store(ingested) as con:
        export_lake(con, lake)
    run = rollup(lake, served)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[0] == (
        f"rolled up 4 days of {lake}, 2026-03-01 to 2026-03-04 "
        "(the store has rolled up nothing of this lake yet)"
    )
    # a new day, 5 March: t5 new, and t3 (3 March) retried on it, so t3 is summed again
    # whole: 3 March is rolled up again with 5 March, the other three days are not
    more = [
        {"task_id": "t5", "ts": "2026-03-05T10:00:00Z", "task_type": "html_extraction",
         "tier": "haiku", "input_tokens": 10, "output_tokens": 5, "fleet": "acme"},
        {"task_id": "t3", "attempt": 2, "ts": "2026-03-05T01:00:00Z",
         "task_type": "html_extraction", "tier": "sonnet", "input_tokens": 1000,
         "output_tokens": 200, "escalation_reason": "reviewer_reject"},
    ]  # fmt: skip
    log = tmp_path / "more.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in more), encoding="utf-8")
    assert ingest_paths(ingested, [log], load_config(None)).totals["loaded"] == 2
    with open_store(ingested) as con:
        export_lake(con, lake, since=dt.date(2026, 3, 5))
    run = rollup(lake, served)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[:2] == [
        f"rolled up 2 days of {lake}, 2026-03-03 to 2026-03-05; 3 days unchanged",
        "attempts: read 3, rejected 0, duplicates 0",  # t3's two calls and t5's
    ]
    # t3 and t5 have rows on 3 and 5 March only: the checks read those two days' rows, not
    # the lake's other three
    assert (
        "checked the rows of 2 of the lake's 5 days: the days rolled up and the days their "
        "tasks have rows on"
    ) in run.stdout.splitlines()
    assert_same_rollups(ingested, served)
    assert_same_reports(ingested, served)
    run = rollup(lake, served)
    assert run.returncode == 0
    assert run.stdout == (
        f"{lake}: no day's files changed since the last rollup (5 days current); nothing to do\n"
    )
    # the served store takes no records, and a store with records takes no lake
    run = tierwatch("ingest", str(log), "--db", str(served), cwd=tmp_path)
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"serves the rollups of the lake {lake}" in run.stderr
    assert f"tierwatch rollup --lake {lake} --db {served}" in run.stderr
    run = rollup(lake, ingested)
    assert run.returncode == 2
    assert "holds 7 attempts that tierwatch ingest loaded" in run.stderr


BAD = [
    # (record, why tierwatch ingest refuses it, or None)
    ({"task_id": "g1", "ts": "2026-03-01T10:00:00Z", "tier": "haiku"}, None),
    ({"task_id": "b1", "ts": "2026-03-01T10:00:00Z", "tier": "haiku", "input_tokens": -5},
     "input_tokens"),
    ({"task_id": "b2", "ts": "2026-03-01T10:00:00Z", "tier": "haiku", "role": "boss"}, "role"),
    ({"task_id": "b3", "ts": "2026-03-01T10:00:00Z", "tier": "gpt-4"}, "tier"),
    # an epoch in milliseconds in the wrong field
    ({"task_id": "b4", "ts": "2026-03-01T10:00:00Z", "tier": "haiku",
      "attempt": 1772366400000}, "attempt"),
]  # fmt: skip


def _rejects_written(lake: Path) -> list[tuple[str, str, str]]:
    """(task id, field, reason) of every row `tierwatch rollup` wrote to LAKE/_rejects."""
    with duckdb.connect() as con:
        return con.execute(
            f"select task_id, field, reason from read_parquet('{lake / '_rejects'}/**/*.parquet')"
            " order by all"
        ).fetchall()


def test_rows_the_formats_rules_refuse_are_counted_and_written_with_ingests_reasons(tmp_path):
    base = {"task_type": "x", "input_tokens": 100, "output_tokens": 10, "role": "executor",
            "attempt": 1, "status": "ok", "fleet": "acme"}  # fmt: skip
    records = [{**base, **r} for r, _ in BAD]
    # what tierwatch ingest says of each bad record
    log = tmp_path / "bad.jsonl"
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    ingested = ingest_paths(tmp_path / "ingested.duckdb", [log], load_config(None))
    said = {records[r.line - 1]["task_id"]: r.reason for f in ingested.files for r in f.rejects}
    assert sorted(said) == ["b1", "b2", "b3", "b4"]
    # the same rows written straight into a lake as another producer would, with g1 twice
    # (an exact duplicate) and c1 twice with different output tokens (a conflict)
    rows = records + [records[0], {**base, "task_id": "c1", "ts": "2026-03-01T11:00:00Z",
                                   "tier": "sonnet"},
                      {**base, "task_id": "c1", "ts": "2026-03-01T11:00:00Z",
                       "tier": "sonnet", "output_tokens": 99}]  # fmt: skip
    lake = tmp_path / "lake"
    lake.mkdir()
    with duckdb.connect() as con:
        con.execute(
            "create table a (task_id varchar, ts timestamp, task_type varchar, tier varchar, "
            "input_tokens bigint, output_tokens bigint, role varchar, attempt bigint, "
            "status varchar, fleet varchar)"
        )
        con.executemany(
            "insert into a values (?, cast(? as timestamptz), ?, ?, ?, ?, ?, ?, ?, ?)",
            [(r["task_id"], r["ts"], r["task_type"], r["tier"], r["input_tokens"],
              r["output_tokens"], r["role"], r["attempt"], r["status"], r["fleet"])
             for r in rows],
        )  # fmt: skip
        con.execute(
            f"copy (select *, cast(ts as date) as day from a) to '{lake / 'attempts'}' "
            "(format parquet, partition_by (day, fleet))"
        )
    served = tmp_path / "served.duckdb"
    run = rollup(lake, served)
    assert run.returncode == 0, run.stderr[-2000:]
    # 8 rows: b1-b4 refused by a rule, c1's two refused as a conflict, g1 once plus once
    assert run.stdout.splitlines()[1] == "attempts: read 8, rejected 6, duplicates 1"
    by_task = {}
    for task_id, field, reason in _rejects_written(lake):
        by_task.setdefault(task_id, []).append((field, reason))
    for task_id, (_, field) in zip(["g1", "b1", "b2", "b3", "b4"], BAD, strict=True):
        if field:
            assert by_task[task_id] == [(field, said[task_id])], task_id
    assert [f for f, _ in by_task["c1"]] == ["attempt", "attempt"]
    assert all("conflicts" in r for _, r in by_task["c1"])
    summary = report(served, "summary")
    assert summary["tasks"] == 1  # g1 alone
    # a later day with one bad row: the incremental run adds its reject and keeps the
    # rejects of 1 March, whose files did not change
    with duckdb.connect() as con:
        con.execute(
            f"copy (select 'b9' as task_id, timestamp '2026-03-02 10:00:00' as ts, 'x' as "
            "task_type, 'haiku' as tier, -1 as input_tokens, 10 as output_tokens, "
            "'executor' as role, 1 as attempt, 'ok' as status, 'acme' as fleet, "
            f"date '2026-03-02' as day) to '{lake / 'attempts'}' "
            "(format parquet, partition_by (day, fleet), append)"
        )
    run = rollup(lake, served)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.splitlines()[1] == "attempts: read 1, rejected 1, duplicates 0"
    kept = [(task_id, field) for task_id, field, _ in _rejects_written(lake)]
    assert kept == [
        ("b1", "input_tokens"), ("b2", "role"), ("b3", "tier"), ("b4", "attempt"),
        ("b9", "input_tokens"), ("c1", "attempt"), ("c1", "attempt"),
    ]  # fmt: skip


def test_a_lake_whose_columns_have_the_wrong_type_is_refused_with_what_to_write(tmp_path):
    lake = tmp_path / "lake"
    lake.mkdir()
    with duckdb.connect() as con:
        con.execute(
            f"copy (select 't1' as task_id, timestamp '2026-03-01 10:00:00' as ts, 'x' as "
            "task_type, 'haiku' as tier, '100' as input_tokens, 5 as output_tokens, "
            f"date '2026-03-01' as day) to '{lake / 'attempts'}' "
            "(format parquet, partition_by (day))"
        )
    run = rollup(lake, tmp_path / "served.duckdb")
    assert run.returncode == 2
    # after Java's and Spark's start-up lines, the message, alone on its line
    assert run.stderr.splitlines()[-1] == (
        f"tierwatch: error: {lake}/attempts: attempts column input_tokens is string, must be "
        "an integer column; rewrite the lake's files with that type"
    )
