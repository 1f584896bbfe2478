"""`tierwatch export --lake`: the store's records as Parquet partitioned by day and fleet.

The fleet below is written by hand so that every partition can be worked out by reading it:
a task that crosses UTC midnight, a timestamp with an offset that moves it to another UTC
day's hour, fleet names a folder name must escape, a record with no fleet, and a
downstream failure reported on a later day.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path
from urllib.parse import unquote

import duckdb
import pytest
from spark_session import local_spark

from tierwatch.ingest import lake as lake_module
from tierwatch.ingest.config import load_config
from tierwatch.ingest.lake import MANIFEST, LakeError, export_lake
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import open_store

HOSTILE = "r&d/eu = 100% 'north'"
BASE = {"task_type": "html_extraction", "input_tokens": 1000, "output_tokens": 200}
RECORDS = [
    # t1 fails on haiku a second before midnight, is escalated to sonnet after it
    {**BASE, "task_id": "t1", "attempt": 1, "ts": "2026-03-01T23:59:59Z", "tier": "haiku",
     "status": "failed", "fleet": "acme", "ticket": "OPS-1"},
    {**BASE, "task_id": "t1", "attempt": 2, "ts": "2026-03-02T00:00:01Z", "tier": "sonnet",
     "escalation_reason": "reviewer_reject", "fleet": "acme", "cost_usd": 0.25},
    # 01:30 at +02:00 is 23:30 UTC the day before
    {**BASE, "task_id": "t2", "ts": "2026-03-03T01:30:00+02:00", "tier": "opus",
     "fleet": HOSTILE, "confidence": "high"},
    {**BASE, "task_id": "t3", "ts": "2026-03-03T12:00:00Z", "tier": "haiku"},  # no fleet
    {**BASE, "task_id": "t4", "ts": "2026-03-02T08:00:00Z", "tier": "haiku", "fleet": "it's"},
    {"record": "downstream_failure", "task_id": "t1", "ts": "2026-03-04T09:00:00Z",
     "detected_by": "qa"},
]  # fmt: skip
# (table, folder under it) -> rows, from the records above
PARTITIONS = {
    ("attempts", "day=2026-03-01/fleet=acme"): 1,
    ("attempts", f"day=2026-03-02/fleet={HOSTILE}"): 1,
    ("attempts", "day=2026-03-02/fleet=acme"): 1,
    ("attempts", "day=2026-03-02/fleet=it's"): 1,
    ("attempts", "day=2026-03-03/fleet=__HIVE_DEFAULT_PARTITION__"): 1,
    ("downstream_failures", "day=2026-03-04"): 1,
}
COLUMNS = (
    "task_id, role, attempt, ts, task_type, tier, planner_tier, model, input_tokens, "
    "output_tokens, cached_input_tokens, cost_usd, confidence, confidence_label, "
    "confidence_source, status, escalation_reason, downstream_failure, plan_id, agent, "
    "latency_ms, cast(extra as varchar) as extra, record_hash, fleet"
)


def _store(tmp_path: Path, records=RECORDS, name="fleet.jsonl") -> Path:
    log = tmp_path / name
    log.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    db = tmp_path / "fleet.duckdb"
    report = ingest_paths(db, [log], load_config(None))
    assert report.totals["loaded"] == len(records), report
    return db


def _export(db: Path, lake: Path, **kw):
    with open_store(db) as con:
        return export_lake(con, lake, **kw)


def _partitions(lake: Path) -> dict[tuple[str, str], int]:
    """Rows per partition folder, the folder names decoded as Hive escapes them."""
    found = {}
    for part in lake.glob("*/day=*/**/*.parquet"):
        rel = part.parent.relative_to(lake)
        table, folder = rel.parts[0], "/".join(unquote(p) for p in rel.parts[1:])
        n = duckdb.execute("select count(*) from read_parquet(?)", [str(part)]).fetchone()[0]
        found[(table, folder)] = found.get((table, folder), 0) + n
    return found


def _lake_rows(lake: Path) -> list[tuple]:
    con = duckdb.connect()
    return con.execute(
        f"select {COLUMNS}, day from read_parquet(?, hive_partitioning = true, "
        "hive_types = {'day': date, 'fleet': varchar}) order by task_id, attempt",
        [str(lake / "attempts" / "**" / "*.parquet")],
    ).fetchall()


def _store_rows(db: Path) -> list[tuple]:
    with open_store(db) as con:
        return con.execute(
            f"select {COLUMNS}, cast(ts as date) from attempts order by task_id, attempt"
        ).fetchall()


def test_each_day_and_fleet_is_a_folder_read_back_exactly(tmp_path):
    db = _store(tmp_path)
    done = _export(db, tmp_path / "lake")
    assert done.rows == {"attempts": 5, "downstream_failures": 1}
    assert [d.isoformat() for d in done.days] == [
        "2026-03-01", "2026-03-02", "2026-03-03", "2026-03-04"
    ]  # fmt: skip
    assert done.replaced == []
    assert _partitions(tmp_path / "lake") == PARTITIONS
    # one folder level per partition column: the hostile name's slash is escaped
    assert len(list((tmp_path / "lake" / "attempts").glob("day=2026-03-02/*"))) == 3
    rows = _lake_rows(tmp_path / "lake")
    assert rows == _store_rows(db)
    t1 = rows[0]
    assert t1[-2:] == ("acme", dt.date(2026, 3, 1))
    assert json.loads(t1[21]) == {"ticket": "OPS-1"}  # unknown fields kept, as JSON text
    assert rows[3][-2] is None  # t3: no fleet comes back as no fleet, not "NULL"
    failures = duckdb.execute(
        "select task_id, ts, detected_by, day from read_parquet(?, hive_partitioning = true)",
        [str(tmp_path / "lake" / "downstream_failures" / "**" / "*.parquet")],
    ).fetchall()
    assert [(f[0], f[2], str(f[3])) for f in failures] == [("t1", "qa", "2026-03-04")]


def test_exporting_a_day_again_replaces_it_and_leaves_the_others(tmp_path):
    db = _store(tmp_path)
    lake = tmp_path / "lake"
    _export(db, lake)
    kept = lake / "attempts" / "day=2026-03-01" / "fleet=acme" / "part-0.parquet"
    before = kept.stat().st_mtime_ns
    # one more attempt on 2026-03-02, loaded later
    more = {**BASE, "task_id": "t5", "ts": "2026-03-02T09:00:00Z", "tier": "opus", "fleet": "acme"}
    log = tmp_path / "more.jsonl"
    log.write_text(json.dumps(more) + "\n", encoding="utf-8")
    ingest_paths(db, [log], load_config(None))
    day = dt.date(2026, 3, 2)
    done = _export(db, lake, since=day, until=day)
    assert done.rows == {"attempts": 4, "downstream_failures": 0}  # t1#2, t2, t4, t5
    assert done.days == [day] and done.replaced == [day]
    assert _partitions(lake) == {**PARTITIONS, ("attempts", "day=2026-03-02/fleet=acme"): 2}
    assert kept.stat().st_mtime_ns == before  # 2026-03-01 was not rewritten
    assert _lake_rows(lake) == _store_rows(db)  # nothing twice
    # the whole store again: every day replaced, still nothing twice
    again = _export(db, lake)
    assert len(again.replaced) == 4 and _lake_rows(lake) == _store_rows(db)
    exports = json.loads((lake / MANIFEST).read_text())["exports"]
    assert [(e["since"], e["until"], e["rows"]["attempts"]) for e in exports] == [
        (None, None, 5), ("2026-03-02", "2026-03-02", 4), (None, None, 6)
    ]  # fmt: skip
    assert not list(lake.glob(".export-*"))  # no scratch left behind


def test_a_folder_that_is_not_a_lake_is_refused_untouched(tmp_path):
    db = _store(tmp_path)
    other = tmp_path / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8")
    with pytest.raises(LakeError, match="not a tierwatch lake"):
        _export(db, other)
    assert [p.name for p in other.iterdir()] == ["cat.jpg"]
    with pytest.raises(LakeError, match="is a file"):
        _export(db, other / "cat.jpg")
    with pytest.raises(LakeError, match="holds no attempts .* from 2030-01-01 on"):
        _export(db, tmp_path / "new-lake", since=dt.date(2030, 1, 1))
    assert not (tmp_path / "new-lake").exists()  # a failed export leaves no folder


def test_the_cli_exports_and_explains_what_it_refuses(tmp_path):
    _store(tmp_path)

    def tierwatch(*args):
        return subprocess.run(
            [sys.executable, "-m", "tierwatch", "export", "--db", "fleet.duckdb", *args],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
        )

    run = tierwatch("--lake", "lake")
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[0] == (
        "exported 5 attempts and 1 downstream failures (4 days, 2026-03-01 to 2026-03-04) to lake"
    )
    run = tierwatch("--lake", "fleet.jsonl")
    assert run.returncode == 2
    assert run.stderr == (
        "tierwatch: error: fleet.jsonl is a file; give --lake a folder (new or a tierwatch lake)\n"
    )
    run = tierwatch("--lake", "lake", "--since", "2026-03-32")
    assert run.returncode == 2 and "--since" in run.stderr and "Traceback" not in run.stderr


def test_spark_reads_the_lake_as_the_store_holds_it(tmp_path):
    db = _store(tmp_path)
    _export(db, tmp_path / "lake")
    spark = local_spark()
    try:
        frame = spark.read.parquet(str(tmp_path / "lake" / "attempts"))
        got = {
            (r["task_id"], r["attempt"], str(r["day"]), r["fleet"], r["tier"], r["input_tokens"])
            for r in frame.collect()
        }
        failures = spark.read.parquet(str(tmp_path / "lake" / "downstream_failures")).collect()
    finally:
        spark.stop()
    assert got == {
        ("t1", 1, "2026-03-01", "acme", "haiku", 1000),
        ("t1", 2, "2026-03-02", "acme", "sonnet", 1000),
        ("t2", 1, "2026-03-02", HOSTILE, "opus", 1000),
        ("t3", 1, "2026-03-03", None, "haiku", 1000),
        ("t4", 1, "2026-03-02", "it's", "haiku", 1000),
    }
    assert [(f["task_id"], str(f["day"])) for f in failures] == [("t1", "2026-03-04")]


def test_an_export_that_fails_while_swapping_days_leaves_the_lake_as_it_was(tmp_path, monkeypatch):
    db = _store(tmp_path)
    lake = tmp_path / "lake"
    _export(db, lake)
    before = _lake_rows(lake)
    replace, calls = lake_module._replace, []

    def fail_on_the_second_day(new, target, trash):
        calls.append(target)
        if len(calls) < 2:
            return replace(new, target, trash)
        trash.mkdir(parents=True, exist_ok=True)
        target.rename(trash / target.name)  # the old day moved aside, then the disk fills
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(lake_module, "_replace", fail_on_the_second_day)
    with pytest.raises(OSError):
        _export(db, lake)
    assert len(calls) == 2
    assert _partitions(lake) == PARTITIONS and _lake_rows(lake) == before
    assert not list(lake.glob(".export-*"))
