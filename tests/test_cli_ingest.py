"""`tierwatch ingest` as a user runs it: messages, exit codes, --json, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

GOOD = {
    "task_id": "t1",
    "ts": "2026-03-01T10:00:00Z",
    "task_type": "html_extraction",
    "tier": "haiku",
    "input_tokens": 2000,
    "output_tokens": 500,
}


def tierwatch(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tierwatch", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write(path: Path, records) -> Path:
    path.write_text("\n".join(json.dumps(r) for r in records) + "\n")
    return path


def test_clean_file_exits_0_and_prints_accounting(tmp_path):
    write(tmp_path / "events.jsonl", [GOOD, {**GOOD, "task_id": "t2"}])
    run = tierwatch("ingest", "events.jsonl", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    assert run.stdout == "events.jsonl: read 2, loaded 2, duplicates 0, rejected 0\n"
    assert (tmp_path / "tierwatch.duckdb").exists()  # the default embedded store
    again = tierwatch("ingest", "events.jsonl", cwd=tmp_path)
    assert again.returncode == 0
    assert again.stdout == "events.jsonl: read 2, loaded 0, duplicates 2, rejected 0\n"


def test_rejects_exit_1_with_file_line_and_reason(tmp_path):
    write(tmp_path / "events.jsonl", [GOOD] * 16 + [{**GOOD, "task_id": "x", "input_tokens": -5}])
    run = tierwatch("ingest", "events.jsonl", "--db", "fleet.duckdb", cwd=tmp_path)
    assert run.returncode == 1
    assert "events.jsonl line 17: input_tokens is -5, must be an integer >= 0" in run.stdout
    assert "read 17, loaded 1, duplicates 15, rejected 1" in run.stdout
    assert "Traceback" not in run.stderr


def test_json_output_shape(tmp_path):
    write(tmp_path / "a.jsonl", [GOOD, {**GOOD, "task_id": "b", "tier": "xl"}])
    run = tierwatch("ingest", "a.jsonl", "--json", cwd=tmp_path)
    assert run.returncode == 1
    out = json.loads(run.stdout)
    assert out["totals"] == {"read": 2, "loaded": 1, "duplicates": 0, "rejected": 1}
    (f,) = out["files"]
    assert set(f) == {"path", "read", "loaded", "duplicates", "rejected", "rejects"}
    assert f["rejects"][0]["line"] == 2
    assert f["rejects"][0]["reason"].startswith('tier is "xl"')


def test_json_lists_at_most_100_rejects(tmp_path):
    write(tmp_path / "bad.jsonl", [{**GOOD, "task_id": f"t{i}", "tier": "xl"} for i in range(150)])
    out = json.loads(tierwatch("ingest", "bad.jsonl", "--json", cwd=tmp_path).stdout)
    assert out["files"][0]["rejected"] == 150
    assert len(out["files"][0]["rejects"]) == 100


def test_usage_errors_exit_2_without_traceback(tmp_path):
    cases = [
        (("ingest", "missing.jsonl"), "missing.jsonl: no such file or folder"),
        (("ingest", "notes.txt"), "cannot tell the format from the file name"),
        (("ingest", "a.jsonl", "--format", "xml"), "Invalid value for '--format'"),
        (("ingest", "a.jsonl", "--config", "nope.toml"), "config file nope.toml does not exist"),
        (("ingest", "a.jsonl", "--db", "no/such/dir/x.duckdb"), "folder no/such/dir does not"),
    ]
    write(tmp_path / "a.jsonl", [GOOD])
    (tmp_path / "notes.txt").write_text("hello")
    for args, message in cases:
        run = tierwatch(*args, cwd=tmp_path)
        assert run.returncode == 2, (args, run.stdout, run.stderr)
        assert message in run.stderr, (args, run.stderr)
        assert "Traceback" not in run.stderr


def test_unreadable_file_among_good_ones(tmp_path):
    write(tmp_path / "a.jsonl", [GOOD])
    (tmp_path / "b.parquet").write_text("not parquet")
    run = tierwatch("ingest", "a.jsonl", "b.parquet", cwd=tmp_path)
    assert run.returncode == 2
    assert "a.jsonl: read 1, loaded 1" in run.stdout  # the good file still loads
    assert "b.parquet: not a readable Parquet file" in run.stderr


def test_help_describes_every_option():
    run = subprocess.run(
        [sys.executable, "-m", "tierwatch", "ingest", "--help"], capture_output=True, text=True
    )
    for option in ("--db", "--config", "--format", "--json"):
        assert option in run.stdout
    assert "Exit status" in run.stdout


def test_files_and_rejects_commands(tmp_path):
    write(
        tmp_path / "a.jsonl",
        [GOOD] + [{**GOOD, "task_id": f"t{i}", "tier": "xl"} for i in range(3)],
    )
    tierwatch("ingest", "a.jsonl", cwd=tmp_path)
    files = tierwatch("files", cwd=tmp_path)
    assert files.returncode == 0
    assert "a.jsonl: read 4, loaded 1, duplicates 0, rejected 3" in files.stdout
    listed = tierwatch("rejects", "a.jsonl", "--limit", "2", cwd=tmp_path)
    assert listed.stdout.splitlines() == [
        'a.jsonl line 2: tier is "xl", must be a tier on the ladder haiku < sonnet < opus '
        "(tier names come from tierwatch.toml)",
        'a.jsonl line 3: tier is "xl", must be a tier on the ladder haiku < sonnet < opus '
        "(tier names come from tierwatch.toml)",
    ]
    as_json = json.loads(tierwatch("rejects", "--format", "json", cwd=tmp_path).stdout)
    assert [r["line"] for r in as_json] == [2, 3, 4]
    assert json.loads(as_json[0]["raw"])["task_id"] == "t0"
    assert tierwatch("rejects", "other.jsonl", cwd=tmp_path).stdout == (
        "no quarantined records for other.jsonl\n"
    )
    missing = tierwatch("files", "--db", "none.duckdb", cwd=tmp_path)
    assert missing.returncode == 2
    assert "no tierwatch database at none.duckdb" in missing.stderr


def test_many_rejects_point_to_the_rejects_command(tmp_path):
    write(tmp_path / "bad.jsonl", [{**GOOD, "task_id": f"t{i}", "tier": "xl"} for i in range(105)])
    run = tierwatch("ingest", "bad.jsonl", cwd=tmp_path)
    assert "... and 5 more; list them all with: tierwatch rejects bad.jsonl" in run.stdout


def test_out_of_memory_is_a_message_and_stores_nothing(tmp_path):
    write(tmp_path / "a.jsonl", [{**GOOD, "task_id": f"t{i}"} for i in range(2000)])
    env = {**os.environ, "TIERWATCH_INGEST_MEMORY": "1MB"}
    run = subprocess.run(
        [sys.executable, "-m", "tierwatch", "ingest", "a.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert run.returncode == 2
    assert "ran out of its memory limit (1MB); nothing of this file was stored" in run.stderr
    assert "Traceback" not in run.stderr
    listed = tierwatch("files", cwd=tmp_path)
    assert listed.stdout.startswith("no files ingested")
    bad = subprocess.run(
        [sys.executable, "-m", "tierwatch", "ingest", "a.jsonl"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env={**os.environ, "TIERWATCH_INGEST_MEMORY": "lots"},
        timeout=120,
    )
    assert bad.returncode == 2
    assert "TIERWATCH_INGEST_MEMORY is 'lots', must be a size like 2GB" in bad.stderr


def test_a_folder_of_many_small_files_lists_only_those_with_rejects(tmp_path):
    """A folder of one object per call (LiteLLM's S3 logger): 25 files, one with a bad
    record; the output names that file and its reject, counts the rest and sums what the
    LiteLLM files are, instead of three lines per file."""
    logs = tmp_path / "s3" / "2026-12-01"
    logs.mkdir(parents=True)
    for i in range(24):
        payload = {
            "id": f"chatcmpl-{i}",
            "trace_id": f"trace-{i}",
            "call_type": "completion",
            "status": "success",
            "model": "anthropic/claude-3-5-haiku-20241022",
            # the group asked for is the planner's tier where it names one: in half the files
            "model_group": "haiku" if i % 2 else "default",
            "prompt_tokens": 100,
            "completion_tokens": 20,
            "response_cost": 0.0001,
            "startTime": 1764547200.0 + i,
            "endTime": 1764547201.0 + i,
            "metadata": {"spend_logs_metadata": {"task_id": f"t{i}", "task_type": "triage"}},
        }
        (logs / f"time-00-00-{i:02d}_chatcmpl-{i}.json").write_text(json.dumps(payload))
    write(logs / "time-99-bad.json", [{**GOOD, "input_tokens": -5}])
    run = tierwatch("ingest", "s3", cwd=tmp_path)
    assert run.returncode == 1
    bad = str(Path("s3") / "2026-12-01" / "time-99-bad.json")
    assert run.stdout.splitlines() == [
        f"{bad}: read 1, loaded 0, duplicates 0, rejected 1",
        f"  {bad} line 1: input_tokens is -5, must be an integer >= 0",
        "24 more files with nothing rejected; list each file with: "
        "tierwatch files --db tierwatch.duckdb",
        "  24 LiteLLM log files: 24 attempts",
        "  none carries what some analyses need: calibration needs tierwatch.confidence; "
        "silent failures need tierwatch.downstream_failure (see docs/sources.md)",
        "  some files lack what some analyses need: failure by planner tier needs "
        "tierwatch.planner.tier (12 of 24 files carry none)",
        "total: read 25, loaded 24, duplicates 0, rejected 1 in 25 files",
    ]
    listed = tierwatch("files", cwd=tmp_path)
    assert len(listed.stdout.splitlines()) == 25
