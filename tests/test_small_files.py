"""Small files load many in one pass of the checks and one transaction
(ingest.load.ingest_small_files), and each comes out as if it had been loaded alone: its own
ledger row, accounting, rejects with its own line numbers, and the same verdicts. The
oracle is the one-file-at-a-time path (`SMALL_FILE_BYTES = 0`), run on the same files."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
from test_ingest import CONFIG, rec, write_jsonl

from tierwatch.ingest import load
from tierwatch.ingest.load import ingest_paths

# what each table is compared on: every column but the file id, which is drawn per file
TABLES = {
    "attempts": "* exclude (file_id)",
    "downstream_failures": "* exclude (file_id)",
    "rejects": "* exclude (file_id)",
    "tasks": "*",
    "task_rollup": "*",
    "ingested_files": "path, format, read, loaded, duplicates, rejected, skipped, skipped_kinds",
}


def _passes(monkeypatch) -> list[int]:
    """Count the check passes (one per chunk staged) and the files each served."""
    seen: list[int] = []
    real = load._load_chunk

    def spy(con, batch, config, files):
        seen.append(len(files))
        return real(con, batch, config, files)

    monkeypatch.setattr(load, "_load_chunk", spy)
    return seen


def _contents(db: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {
            t: sorted(con.execute(f"select {cols} from {t}").fetchall(), key=repr)
            for t, cols in TABLES.items()
        }
    finally:
        con.close()


def _both_ways(tmp_path: Path, monkeypatch, paths: list[Path]):
    """The files loaded in passes and then one at a time, each into a new store."""
    grouped = ingest_paths(tmp_path / "grouped.duckdb", paths, CONFIG)
    with monkeypatch.context() as m:
        m.setattr(load, "SMALL_FILE_BYTES", 0)
        alone = ingest_paths(tmp_path / "alone.duckdb", paths, CONFIG)
    return grouped, alone


def _hostile_folder(folder: Path) -> list[Path]:
    folder.mkdir()
    a = write_jsonl(folder / "a.jsonl", [rec(task_id="t1"), rec(task_id="t2")])
    b = write_jsonl(
        folder / "b.jsonl",
        [
            rec(task_id="t1", output_tokens=999),  # t1 attempt 1 again, other content
            rec(task_id="t2"),  # a's second record again
            rec(task_id="t3", input_tokens=-5),
            rec(task_id="t4"),
        ],
    )
    c = folder / "c.jsonl"
    c.write_bytes(a.read_bytes())  # the same bytes as a
    d = folder / "d.jsonl.gz"
    d.write_bytes(gzip.compress(b'{"task_id": "t9"}\n')[:-6])  # cut off
    e = write_jsonl(folder / "e.jsonl", ["[", "{}]"])  # a JSON array, not JSONL
    f = write_jsonl(
        folder / "f.jsonl",
        [
            {"record": "downstream_failure", "task_id": "t4", "ts": "2026-03-01T11:00:00Z"},
            "not json {",
        ],
    )
    return [a, b, c, d, e, f]


def test_a_pass_of_small_files_gives_what_loading_them_one_at_a_time_gives(tmp_path, monkeypatch):
    paths = _hostile_folder(tmp_path / "logs")
    passes = _passes(monkeypatch)
    grouped, alone = _both_ways(tmp_path, monkeypatch, paths)
    # grouped: its four readable files in one pass. Alone: one pass each for a, b and f;
    # c is a's bytes, known by its digest once a is stored, so it needs no pass
    assert passes == [4, 1, 1, 1]
    assert [f.to_json() for f in grouped.files] == [f.to_json() for f in alone.files]
    assert grouped.errors == alone.errors
    assert _contents(tmp_path / "grouped.duckdb") == _contents(tmp_path / "alone.duckdb")


def test_each_file_of_a_pass_keeps_its_own_accounting_lines_and_messages(tmp_path, monkeypatch):
    a, b, c, d, e, f = _hostile_folder(tmp_path / "logs")
    report = ingest_paths(tmp_path / "tw.duckdb", [tmp_path / "logs"], CONFIG)
    got = {Path(r.path).name: (r.read, r.loaded, r.duplicates, r.rejected) for r in report.files}
    # worked out by hand from the files above
    assert got == {
        "a.jsonl": (2, 2, 0, 0),
        "b.jsonl": (4, 1, 1, 2),  # t4 new; t2 a duplicate; t1 a conflict, t3 refused
        "c.jsonl": (2, 0, 2, 0),
        "f.jsonl": (2, 1, 0, 1),
    }
    by_name = {Path(r.path).name: r for r in report.files}
    assert [(r.line, r.reason) for r in by_name["b.jsonl"].rejects] == [
        (
            1,
            f"conflicts with the record already loaded from {a} line 1: same identity "
            "(task_id, role, attempt) but different content; correct one of them, or load "
            "this file into a new --db",
        ),
        (3, "input_tokens is -5, must be an integer >= 0"),
    ]
    assert [r.line for r in by_name["f.jsonl"].rejects] == [2]
    assert sorted(Path(p).name for p, _ in report.errors) == ["d.jsonl.gz", "e.jsonl"]
    assert all(why.startswith(str(p)) for p, why in report.errors)

    con = duckdb.connect(str(tmp_path / "tw.duckdb"), read_only=True)
    ledger = dict(con.execute("select path, file_id from ingested_files").fetchall())
    stored = con.execute("select task_id, file_id, line from attempts order by task_id").fetchall()
    rejects = con.execute("select file_id, line from rejects order by file_id, line").fetchall()
    failures = con.execute("select task_id, file_id, line from downstream_failures").fetchall()
    con.close()
    assert stored == [
        ("t1", ledger[str(a)], 1),
        ("t2", ledger[str(a)], 2),
        ("t4", ledger[str(b)], 4),
    ]
    assert rejects == sorted([(ledger[str(b)], 1), (ledger[str(b)], 3), (ledger[str(f)], 2)])
    assert failures == [("t4", ledger[str(f)], 1)]


def _payload(i: int, task: str, group: str, status: str, start: float) -> dict:
    """A StandardLoggingPayload as LiteLLM logs one call (the fields tierwatch reads)."""
    model = {
        "haiku": "anthropic/claude-3-5-haiku-20241022",
        "sonnet": "anthropic/claude-sonnet-4-5",
    }
    failed = status == "failure"
    return {
        "id": f"chatcmpl-{i}",
        "trace_id": f"trace-{task}",
        "call_type": "completion",
        "status": status,
        "model": model[group],
        "model_group": group,
        "prompt_tokens": 0 if failed else 100,
        "completion_tokens": 0 if failed else 20,
        "total_tokens": 0 if failed else 120,
        "response_cost": 0.0 if failed else 0.0004,
        "startTime": start,
        "endTime": start + 1.0,
        "metadata": {"spend_logs_metadata": {"task_id": task, "task_type": "triage"}},
    }


def test_a_task_spread_over_one_call_files_is_numbered_on_within_a_pass(tmp_path, monkeypatch):
    """One file per call, as LiteLLM's S3 logger writes them: a task's second and third
    calls are in later files of the same pass, so nothing of them is stored yet when they
    are numbered; they still go on from the first (attempts 2 and 3, each after an error)."""
    folder = tmp_path / "s3" / "2026-12-01"
    folder.mkdir(parents=True)
    calls = [
        ("t1", "haiku", "failure"),
        ("t1", "haiku", "failure"),
        ("t1", "sonnet", "success"),
        ("t2", "haiku", "success"),
    ]
    for i, (task, group, status) in enumerate(calls):
        payload = _payload(i, task, group, status, 1764547200.0 + 10 * i)
        (folder / f"time-00-00-{i:02d}_chatcmpl-{i}.json").write_text(json.dumps(payload))
    passes = _passes(monkeypatch)
    grouped, alone = _both_ways(tmp_path, monkeypatch, [tmp_path / "s3"])
    assert passes[0] == 4  # one pass for the four files
    con = duckdb.connect(str(tmp_path / "grouped.duckdb"), read_only=True)
    got = con.execute(
        "select task_id, attempt, tier, status, escalation_reason from attempts order by 1, 2"
    ).fetchall()
    chains = con.execute("select task_id, tier_path from tasks order by 1").fetchall()
    con.close()
    assert got == [
        ("t1", 1, "haiku", "error", None),
        ("t1", 2, "haiku", "error", "error"),
        ("t1", 3, "sonnet", "ok", "error"),
        ("t2", 1, "haiku", "ok", None),
    ]
    assert chains == [("t1", ["haiku", "haiku", "sonnet"]), ("t2", ["haiku"])]
    assert _contents(tmp_path / "grouped.duckdb") == _contents(tmp_path / "alone.duckdb")
    # the same folder again: every call a duplicate, numbered as the first time
    again = ingest_paths(tmp_path / "grouped.duckdb", [tmp_path / "s3"], CONFIG)
    assert [(r.loaded, r.duplicates) for r in again.files] == [(0, 1)] * 4


def test_a_pass_closes_at_its_file_limit(tmp_path, monkeypatch):
    monkeypatch.setattr(load, "GROUP_FILES", 3)
    folder = tmp_path / "logs"
    folder.mkdir()
    for i in range(7):
        write_jsonl(folder / f"{i}.jsonl", [rec(task_id=f"t{i}")])
    passes = _passes(monkeypatch)
    report = ingest_paths(tmp_path / "tw.duckdb", [folder], CONFIG)
    assert passes == [3, 3, 1]
    assert [r.loaded for r in report.files] == [1] * 7


def test_a_pass_that_fails_leaves_the_store_as_it_was_and_loads_its_files_alone(
    tmp_path, monkeypatch
):
    """DuckDB running out of memory in a pass: nothing of the pass is stored, and its files
    are loaded one at a time, each with its own outcome."""
    folder = tmp_path / "logs"
    folder.mkdir()
    for i in range(3):
        write_jsonl(folder / f"{i}.jsonl", [rec(task_id=f"t{i}")])
    real = load._load_chunk
    failed: list[int] = []

    def once(con, batch, config, files):
        if len(files) > 1 and not failed:
            failed.append(len(files))
            raise duckdb.OutOfMemoryException("Out of Memory Error: could not allocate")
        return real(con, batch, config, files)

    monkeypatch.setattr(load, "_load_chunk", once)
    report = ingest_paths(tmp_path / "tw.duckdb", [folder], CONFIG)
    assert failed == [3]
    assert [(Path(r.path).name, r.loaded) for r in report.files] == [
        ("0.jsonl", 1),
        ("1.jsonl", 1),
        ("2.jsonl", 1),
    ]
    assert report.errors == []
    con = duckdb.connect(str(tmp_path / "tw.duckdb"), read_only=True)
    assert con.execute("select count(*) from attempts").fetchall() == [(3,)]
    assert con.execute("select count(*) from ingested_files").fetchall() == [(3,)]
    con.close()
