"""A stored record's content hash: what tells a duplicate from a conflict.

Two records with the same identity ((task_id, role, attempt) for an attempt, (task_id, ts,
detected_by) for a downstream failure) are duplicates when their hashes are equal and a
conflict when not. The hash is md5 over the record's typed values, each written as its
length, a colon and its text, and NULL as `~`: no two different records share the text
that is hashed, whatever characters their values hold (a separator-joined text with a
stand-in for NULL let `"\\u0000"` or values shifted across the separator collide). Unknown
fields (`extra`) count as JSON values: key order and spacing make no difference.

`tests/test_hostile_ingest.py` pins a known record's hash, computed there by hand, so that a
DuckDB upgrade that printed doubles or timestamps differently would be caught.
"""

from __future__ import annotations

import json
import math

import duckdb

# in this order; each is cast to text (timestamps as 'YYYY-MM-DD HH:MM:SS[.ffffff]')
ATTEMPT_HASHED = (
    "task_id", "role", "attempt", "ts", "task_type", "tier", "planner_tier", "model",
    "input_tokens", "output_tokens", "cached_input_tokens", "cost_usd", "confidence",
    "confidence_source", "status", "escalation_reason", "downstream_failure", "plan_id",
    "fleet", "agent", "latency_ms", "extra",
)  # fmt: skip
DOWNSTREAM_HASHED = ("task_id", "ts", "detected_by", "extra")


def canonical_json(text: str | None) -> str | None:
    """A JSON text as a canonical one: keys sorted, no spaces, integral floats as integers."""
    if text is None:
        return None
    return json.dumps(
        _canonical(json.loads(text)), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )


def _canonical(value):
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value) if abs(value) < 2**53 else value
    return value


def _canonical_batch(texts):
    import pyarrow as pa  # only where a load hashes records: a report need not import it

    return pa.array([canonical_json(t) for t in texts.to_pylist()], pa.string())


def _term(column: str) -> str:
    value = f"cast(canonical_json({column}) as varchar)" if column == "extra" else column
    text = f"cast({value} as varchar)"
    return f"coalesce(cast(length({text}) as varchar) || ':' || {text}, '~')"


def _macro(name: str, columns: tuple[str, ...]) -> str:
    terms = " || ',' || ".join(_term(c) for c in columns)
    return f"create or replace temp macro {name}({', '.join(columns)}) as md5({terms})"


def register(con: duckdb.DuckDBPyConnection) -> None:
    """Define `attempt_hash(...)` and `downstream_hash(...)` (arguments in the order of
    ATTEMPT_HASHED and DOWNSTREAM_HASHED) on the connection, and the `canonical_json` they
    use. Idempotent."""
    try:
        con.create_function(
            "canonical_json",
            _canonical_batch,
            [duckdb.sqltype("VARCHAR")],
            duckdb.sqltype("VARCHAR"),
            type="arrow",
            side_effects=False,
        )
    except duckdb.NotImplementedException:
        pass  # already defined on this connection
    con.execute(_macro("attempt_hash", ATTEMPT_HASHED))
    con.execute(_macro("downstream_hash", DOWNSTREAM_HASHED))
