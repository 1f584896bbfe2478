"""Property tests of ingest: the accounting identity and idempotence, on generated logs."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import duckdb
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths

CONFIG = load_config(None)

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=8)
good = st.fixed_dictionaries(
    {
        "task_id": st.sampled_from(["a", "b", "c", "it's", "100%", "🚀"]),
        "ts": st.sampled_from(["2026-03-01T00:00:00Z", 1767225600, "2026-03-02"]),
        "task_type": st.sampled_from(["x", "y", "select"]),
        "tier": st.sampled_from(["haiku", "sonnet", "opus"]),
        "input_tokens": st.integers(0, 5000),
        "output_tokens": st.integers(0, 5000),
    },
    optional={
        "attempt": st.integers(1, 3),
        "role": st.sampled_from(["executor", "planner", "reviewer"]),
        "status": st.sampled_from(["ok", "failed", "error"]),
        "confidence": st.one_of(st.floats(0, 1), st.sampled_from(["high", "low"])),
        "extra_field": text,
    },
)
# values that break one rule each
broken = good.flatmap(
    lambda r: st.sampled_from(
        [
            {**r, "input_tokens": -1},
            {**r, "tier": "xl"},
            {**r, "ts": "never"},
            {k: v for k, v in r.items() if k != "task_id"},
            {**r, "confidence": 2},
        ]
    )
)
line = st.one_of(
    good.map(json.dumps),
    broken.map(json.dumps),
    st.sampled_from(["{", "[]", "null", '{"task_id": 1}']),
    text.filter(lambda s: s.strip() and "\n" not in s and "\r" not in s),
)


def _load(db: Path, lines: list[str], name: str):
    f = db.parent / name
    f.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return ingest_paths(db, [f], CONFIG)


def _json_array(lines: list[str]) -> bool:
    opening = next((x.strip() for x in lines if x.strip()), "")
    return opening == "[" or opening.replace(" ", "").startswith("[{")


def _count(db: Path, table: str) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(f"select count(*) from {table}").fetchone()[0]
    finally:
        con.close()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=25))
@example(["[", '{"task_id": "a"}'])  # found by hypothesis: a file that opens as a JSON array
def test_read_is_loaded_plus_duplicates_plus_rejected(lines):
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tw.duckdb"
        report = _load(db, lines, "a.jsonl")
        if _json_array(lines):
            # a JSON array, not JSONL (docs/log-format.md): refused whole, with the fix
            ((path, why),) = report.errors
            assert path.endswith("a.jsonl") and "jq -c '.[]'" in why and not report.files
            assert _count(db, "attempts") + _count(db, "rejects") == 0
            return
        (f,) = report.files
        assert f.read == f.loaded + f.duplicates + f.rejected
        assert f.read == sum(1 for x in lines if x.strip())
        # what is counted is what is stored
        assert _count(db, "attempts") + _count(db, "downstream_failures") == f.loaded
        assert _count(db, "rejects") == f.rejected


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(line, max_size=20), st.lists(line, max_size=20))
def test_loading_again_changes_nothing(first, second):
    assume(not _json_array(first) and not _json_array(first + second))  # refused whole
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "tw.duckdb"
        a = _load(db, first, "a.jsonl").files[0]
        b = _load(db, first + second, "b.jsonl").files[0]  # overlaps a
        stored = _count(db, "attempts"), _count(db, "downstream_failures")
        tasks = _count(db, "tasks")
        again = _load(db, first + second, "b.jsonl").files[0]
        assert again.loaded == 0
        assert again.read == b.read
        assert again.duplicates == b.loaded + b.duplicates
        assert again.rejected == b.rejected
        assert (_count(db, "attempts"), _count(db, "downstream_failures")) == stored
        assert _count(db, "tasks") == tasks
        # records of a are never loaded twice through b
        assert b.loaded + a.loaded == sum(stored)
