"""Fixture builders for the analytics tests: log records in, a real tierwatch store out.

`attempt(...)` makes one log-format-v1 record (a dict, as a fleet would write it);
`downstream(...)` a downstream-failure record; `build_store(tmp_path, records)` writes
them to a JSONL file and loads it into a new DuckDB store the way `tierwatch ingest` does.
"""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

from tierwatch.ingest.config import Config, load_config
from tierwatch.ingest.load import ingest_paths

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
    from tierwatch.ingest.store import ensure_ladder, open_store

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


def small_fleet_records() -> list[dict]:
    """Three tasks over three days with planner and reviewer calls, a logged cost, cached
    tokens and a downstream failure; tests/test_costs.py and test_summary.py work out
    its numbers by hand."""
    return [
        # 1 March: a planner call (its own task id, so not an executor task)
        attempt("plan1", "2026-03-01T08:00:00Z", "planning", "sonnet", role="planner",
                input_tokens=1000, output_tokens=200, fleet="content"),
        # t1: one haiku call, ok
        attempt("t1", "2026-03-01T09:00:00Z", "extract", "haiku", planner_tier="haiku",
                fleet="content"),
        # t2: haiku fails, sonnet rescues
        attempt("t2", "2026-03-01T10:00:00Z", "extract", "haiku", planner_tier="haiku",
                status="failed", fleet="content"),
        attempt("t2", "2026-03-01T10:05:00Z", "extract", "sonnet", attempt=2,
                escalation_reason="reviewer_reject", fleet="content"),
        # 3 March: t3 on opus with a logged cost, reviewed, later found wrong downstream
        attempt("t3", "2026-03-03T09:00:00Z", "review_doc", "opus", planner_tier="opus",
                input_tokens=4000, output_tokens=1000, cached_input_tokens=2000,
                cost_usd=0.2, confidence=0.95, fleet="content"),
        attempt("t3", "2026-03-03T09:10:00Z", "review_doc", "sonnet", role="reviewer",
                input_tokens=1000, output_tokens=100, fleet="content"),
        downstream("t3", "2026-03-04T12:00:00Z"),
    ]  # fmt: skip


def hostile_records() -> list[dict]:
    """For every hostile name, one task of that type and fleet escalated haiku -> sonnet,
    plus a plain control task."""
    records = []
    for i, name in enumerate((*HOSTILE_TASK_TYPES, "control")):
        records += [
            attempt(f"h{i}", "2026-03-01T10:00:00Z", name, "haiku", planner_tier="haiku",
                    status="failed", fleet=name),
            attempt(f"h{i}", "2026-03-01T10:01:00Z", name, "sonnet", attempt=2, fleet=name,
                    escalation_reason="low_confidence"),
        ]  # fmt: skip
    return records


def json_keys(value, data_keyed: set[str], found: set[str] | None = None) -> set[str]:
    """Every key of a report's JSON, not descending into maps keyed by data (tier names)."""
    found = set() if found is None else found
    if isinstance(value, dict):
        for key, child in value.items():
            found.add(key)
            if key not in data_keyed:
                json_keys(child, data_keyed, found)
    elif isinstance(value, list):
        for child in value:
            json_keys(child, data_keyed, found)
    return found
