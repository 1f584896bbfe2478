"""Fixture builders for the analytics tests: log records in, a real tierwatch store out.

`attempt(...)` makes one log-format-v1 record (a dict, as a fleet would write it);
`downstream(...)` a downstream-failure record; `build_store(tmp_path, records)` writes
them to a JSONL file and loads it into a new DuckDB store the way `tierwatch ingest` does.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from ingest.config import Config, load_config
from ingest.load import ingest_paths

# Task type names that try to break SQL built by string formatting, LIKE patterns and
# encodings: every filter must pass them through as plain values.
HOSTILE_TASK_TYPES = (
    'it\'s "quoted"',
    "100%_done",
    "naïve_ünïcode_分类",
    "emoji 🚀 task",
    "select",
    "'; drop table attempts; --",
)


def attempt(
    task_id: str,
    ts: str,
    task_type: str,
    tier: str,
    *,
    attempt: int = 1,
    role: str = "executor",
    status: str = "ok",
    input_tokens: int = 2000,
    output_tokens: int = 500,
    **fields,
) -> dict:
    """One attempt record; extra keyword fields (planner_tier, model, confidence, cost_usd,
    fleet, escalation_reason, cached_input_tokens, downstream_failure...) are kept as given."""
    record = {
        "task_id": task_id,
        "ts": ts,
        "task_type": task_type,
        "tier": tier,
        "role": role,
        "attempt": attempt,
        "status": status,
        "input_tokens": input_tokens,
        "output_tokens": output_tokens,
    }
    record.update(fields)
    return record


def downstream(task_id: str, ts: str, detected_by: str = "publish_gate") -> dict:
    return {
        "record": "downstream_failure",
        "task_id": task_id,
        "ts": ts,
        "detected_by": detected_by,
    }


def write_jsonl(path: Path, records: list[dict]) -> Path:
    path.write_text(
        "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8"
    )
    return path


def build_store(tmp_path: Path, records: list[dict], config: Config | None = None) -> Path:
    """A new store at tmp_path/tierwatch.duckdb holding `records`; its path."""
    config = config or load_config(None)
    db = tmp_path / "tierwatch.duckdb"
    logs = write_jsonl(tmp_path / "fleet.jsonl", records)
    report = ingest_paths(db, [logs], config)
    rejected = [r for f in report.files for r in f.rejects]
    assert not rejected, f"fixture records were rejected: {rejected}"
    return db


def empty_store(tmp_path: Path, config: Config | None = None) -> Path:
    """A migrated store with no attempts."""
    from ingest.store import ensure_ladder, open_store

    db = tmp_path / "empty.duckdb"
    with open_store(db, read_only=False) as con:
        ensure_ladder(con, config or load_config(None))
    return db


def article_records(days: int = 30, start: dt.date = dt.date(2026, 3, 1)) -> list[dict]:
    """The article's fleet: 500 executor tasks a day (400 haiku, 75 sonnet, 25 opus), each
    one call of 2,000 input and 500 output tokens, no planner or reviewer calls."""
    records = []
    for d in range(days):
        day = start + dt.timedelta(days=d)
        mix = ["haiku"] * 400 + ["sonnet"] * 75 + ["opus"] * 25
        for i, tier in enumerate(mix):
            ts = f"{day.isoformat()}T{i // 60 % 24:02d}:{i % 60:02d}:00Z"
            records.append(
                attempt(f"d{d}-t{i}", ts, "article_task", tier, planner_tier=tier, fleet="content")
            )
    return records
