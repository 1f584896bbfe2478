"""SIGKILL in the middle of `tierwatch ingest`: the store holds none or all of that file.

A real `tierwatch ingest` process loads a large JSONL file (more records and bytes than one
block of ingest/load.py, so the load spans several blocks) into a real DuckDB file and is
killed with SIGKILL: once its rows are being written (the database file grows), and, in a
third test, as its first and as its last commit is written (the write-ahead log grows).
Each kill asserts the process was still running when the signal landed (exit status -9),
then the test opens the store: none or all of the killed file is there (none, for a kill
while rows are being written), and what an earlier ingest loaded is all still there.
Loading the big file again afterwards loads every record exactly once.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb

from tierwatch.ingest import load

BIG_RECORDS = 270_000
# hostile task types on purpose: quotes, percent, backslash, emoji, right-to-left text
TASK_TYPES = ["html_extraction", 'it\'s 100% "done"', "back\\slash", "résumé 🚀", "עברית"]


def _write_big_jsonl(path: Path, n: int, first_task: int = 0) -> None:
    """n executor attempts, one per task t<first_task + i>, written by DuckDB in one COPY.

    Task i: task type TASK_TYPES[i % 5], tier haiku / sonnet / opus by i % 3, input tokens
    1000 + i % 1000, output tokens 200 + i % 300, one second apart from 2026-03-01.
    """
    con = duckdb.connect()
    con.execute(
        """
        create temp table big as
        select
            't' || (i + $first) as task_id,
            strftime(timestamp '2026-03-01' + to_seconds(i), '%Y-%m-%dT%H:%M:%SZ') as ts,
            $types[(i % 5) + 1] as task_type,
            ['haiku', 'sonnet', 'opus'][(i % 3) + 1] as tier,
            'executor' as role,
            1 as attempt,
            1000 + i % 1000 as input_tokens,
            200 + i % 300 as output_tokens,
            'content' as fleet,
            -- long plan ids make the file larger than one JSONL block of ingest/load.py
            'plan-' || (i // 10) || '-of-the-weekly-competitive-research-run' as plan_id,
            'agent/' || (i % 7) || '/executor-pool-west' as agent
        from range($n) as r(i)
        order by i
        """,
        {"n": n, "first": first_task, "types": TASK_TYPES},
    )
    con.execute(f"copy big to '{_sql_path(path)}' (format json)")
    con.close()


def _sql_path(path: Path) -> str:
    return str(path).replace("'", "''")


def _assert_spans_chunks(path: Path) -> None:
    """The load of path takes more than one chunk (records, or JSONL bytes, staged at once)."""
    assert BIG_RECORDS > load.CHUNK_RECORDS
    assert path.stat().st_size > getattr(load, "BLOCK_BYTES", 0)


def _env() -> dict[str, str]:
    """This environment without a store or config of its own: the test names both."""
    return {k: v for k, v in os.environ.items() if k not in ("TIERWATCH_DB", "TIERWATCH_CONFIG")}


def _tierwatch(*args: str, cwd: Path, out=subprocess.PIPE, err=subprocess.PIPE):
    """`tierwatch ARGS...` as its own process, as a user runs it."""
    return subprocess.Popen(
        [sys.executable, "-c", "from tierwatch.cli.main import main; main()", *args],
        cwd=cwd,
        stdout=out,
        stderr=err,
        env=_env(),
    )


def _ingest_to_end(db: Path, path: Path, cwd: Path) -> None:
    # the accounting is read from the store's ledger, not from stdout: DuckDB's own progress
    # bar can share stdout with the report of a long load
    proc = _tierwatch("ingest", str(path), "--db", str(db), cwd=cwd)
    _, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()[-2000:]


def _size(path: Path) -> int:
    return path.stat().st_size if path.exists() else -1


def _kill_mid_load(db: Path, path: Path, cwd: Path) -> None:
    """Start an ingest of path into the existing store db; SIGKILL it once its rows are
    being written, and assert the process was still running when the signal landed.

    The signal is the database file growing: DuckDB writes the rows of a large insert into
    the file as it goes, before anything is committed, while the file is only made visible
    after its last block and the task-level refresh.
    """
    base = _size(db)
    log = cwd / "killed-ingest.stderr"
    # output goes to files: an undrained pipe could stall the process before the kill
    with open(log, "wb") as err:
        proc = _tierwatch(
            "ingest", str(path), "--db", str(db), cwd=cwd, out=subprocess.DEVNULL, err=err
        )
        started = time.monotonic()
        waited_out = False
        while proc.poll() is None and _size(db) <= base:
            if time.monotonic() - started > 240:
                waited_out = True
                break
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=60)
    said = log.read_text(errors="replace")[-2000:]
    assert not waited_out, f"{db.name} did not grow in 240 s of ingest: {said}"
    assert proc.returncode == -signal.SIGKILL, (
        f"the ingest was no longer running when killed (exit {proc.returncode}), so this "
        f"run tested nothing: {said}"
    )


def _run_watching_log(db: Path, path: Path, cwd: Path, kill_at: int | None) -> tuple[bool, int]:
    """Ingest path into db, counting the times its write-ahead log grows, that is the
    commits being written; with kill_at, SIGKILL it at that count (while, or just after,
    that commit is written). (whether it was killed, the count seen)."""
    wal = db.with_name(db.name + ".wal")
    log = cwd / "killed-ingest.stderr"
    with open(log, "wb") as err:
        proc = _tierwatch(
            "ingest", str(path), "--db", str(db), cwd=cwd, out=subprocess.DEVNULL, err=err
        )
        started, last, seen = time.monotonic(), _size(wal), 0
        while proc.poll() is None:
            if time.monotonic() - started > 240:
                proc.kill()
                raise AssertionError("the ingest ran for 240 s")
            now = _size(wal)
            seen += now > last
            last = now
            if kill_at is not None and seen >= kill_at:
                os.kill(proc.pid, signal.SIGKILL)
                break
            time.sleep(0.001)
        proc.wait(timeout=60)
    said = log.read_text(errors="replace")[-2000:]
    if kill_at is None or seen < kill_at:
        assert proc.returncode == 0, f"the ingest failed (exit {proc.returncode}): {said}"
        return False, seen
    assert proc.returncode == -signal.SIGKILL, (
        f"the ingest ended (exit {proc.returncode}) before the kill landed: {said}"
    )
    return True, seen


def _counts(db: Path) -> dict[str, int]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            table: con.execute(f"select count(*) from {table}").fetchall()[0][0]
            for table in ("attempts", "tasks", "ingested_files", "rejects", "downstream_failures")
        }
    finally:
        con.close()


def _create_store(db: Path, cwd: Path) -> None:
    proc = _tierwatch("ingest", "--db", str(db), cwd=cwd)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, err.decode()
    assert db.exists()


def test_kill_mid_load_of_first_file_leaves_the_store_empty_then_a_reload_loads_all(tmp_path):
    big, db = tmp_path / "big fleet log.jsonl", tmp_path / "store.duckdb"
    _write_big_jsonl(big, BIG_RECORDS)
    _assert_spans_chunks(big)
    _create_store(db, tmp_path)

    _kill_mid_load(db, big, tmp_path)

    empty = {"attempts": 0, "tasks": 0, "ingested_files": 0, "rejects": 0, "downstream_failures": 0}
    assert _counts(db) == empty

    # the killed load left nothing behind that stops or changes the next one
    _ingest_to_end(db, big, tmp_path)
    # one attempt per task, each an executor attempt: as many tasks as records
    assert _counts(db) == {
        **empty,
        "attempts": BIG_RECORDS,
        "tasks": BIG_RECORDS,
        "ingested_files": 1,
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        distinct = con.execute(
            "select count(distinct (task_id, role, attempt)), count(distinct line) from attempts"
        ).fetchall()[0]
        ledger = con.execute(
            "select path, read, loaded, duplicates, rejected from ingested_files"
        ).fetchall()
        hostile = con.execute(
            "select count(*) from attempts where task_type = $t", {"t": TASK_TYPES[1]}
        ).fetchall()[0][0]
    finally:
        con.close()
    assert distinct == (BIG_RECORDS, BIG_RECORDS)  # every record exactly once
    assert ledger == [(str(big), BIG_RECORDS, BIG_RECORDS, 0, 0)]
    # task i has type TASK_TYPES[i % 5]: i = 1, 6, 11, ..., 269,996 -> 270,000 / 5 = 54,000
    assert hostile == BIG_RECORDS // 5


def test_kill_mid_load_keeps_an_earlier_file_and_nothing_of_the_killed_one(tmp_path):
    small, big = tmp_path / "small.jsonl", tmp_path / "it's big.jsonl"
    db = tmp_path / "store.duckdb"
    _write_big_jsonl(small, 1_000, first_task=10_000_000)  # tasks t10000000 .. t10000999
    _write_big_jsonl(big, BIG_RECORDS)  # tasks t0 .. t269999: no overlap with the small file
    _ingest_to_end(db, small, tmp_path)
    con = duckdb.connect(str(db), read_only=True)
    try:
        before = con.execute("select * from attempts order by task_id").fetchall()
        tasks_before = con.execute("select * from tasks order by task_id").fetchall()
        meta_before = con.execute("select * from meta").fetchall()
    finally:
        con.close()

    _kill_mid_load(db, big, tmp_path)

    con = duckdb.connect(str(db), read_only=True)
    try:
        after = con.execute("select * from attempts order by task_id").fetchall()
        tasks_after = con.execute("select * from tasks order by task_id").fetchall()
        meta_after = con.execute("select * from meta").fetchall()
        ledger = con.execute("select path, read, loaded from ingested_files").fetchall()
        rejects = con.execute("select count(*) from rejects").fetchall()[0][0]
    finally:
        con.close()
    assert len(after) == 1_000
    assert after == before  # the small file's rows, every value unchanged
    assert tasks_after == tasks_before
    assert meta_after == meta_before  # data_version not bumped by the killed load
    assert ledger == [(str(small), 1_000, 1_000)]
    assert rejects == 0


def test_kill_at_first_and_last_commit_leaves_none_or_all_of_the_file(tmp_path):
    """Kill the load as its first commit is written, and in another run as its last (a
    calibration run into a copy of the store counts the commits): after either kill
    the store holds the killed file entirely or not at all, never a part. A load that
    committed block by block into the tables the queries read would be caught here."""
    small, big = tmp_path / "small.jsonl", tmp_path / "big.jsonl"
    db = tmp_path / "store.duckdb"
    _write_big_jsonl(small, 1_000, first_task=10_000_000)  # tasks t10000000 .. t10000999
    _write_big_jsonl(big, BIG_RECORDS)
    _assert_spans_chunks(big)
    _ingest_to_end(db, small, tmp_path)
    calibration = tmp_path / "calibration.duckdb"
    shutil.copyfile(db, calibration)
    _, commits = _run_watching_log(calibration, big, tmp_path, kill_at=None)
    assert commits >= 1
    none = {"attempts": 1_000, "tasks": 1_000, "ingested_files": 1}
    every = {"attempts": 1_000 + BIG_RECORDS, "tasks": 1_000 + BIG_RECORDS, "ingested_files": 2}

    kills = 0
    for nth in sorted({1, commits}):
        killed, _ = _run_watching_log(db, big, tmp_path, kill_at=nth)
        kills += killed
        counts = _counts(db)
        con = duckdb.connect(str(db), read_only=True)
        try:
            ledger = con.execute(
                "select path, read, loaded from ingested_files order by file_id"
            ).fetchall()
            small_rows = con.execute(
                "select count(*) from attempts where cast(task_id[2:] as bigint) >= 10000000"
            ).fetchall()[0][0]
        finally:
            con.close()
        held = {k: counts[k] for k in none}
        assert small_rows == 1_000, f"commit {nth}: the earlier file changed"
        assert held in (none, every), f"commit {nth}: part of the killed file is in: {counts}"
        if held == every:
            assert ledger == [(str(small), 1_000, 1_000), (str(big), BIG_RECORDS, BIG_RECORDS)]
            break  # the file is in: later runs would find only duplicates
        assert ledger == [(str(small), 1_000, 1_000)]
        assert killed, "a run that got to its end must have loaded the file"
    assert kills >= 1, "no run was killed, so this tested nothing"
