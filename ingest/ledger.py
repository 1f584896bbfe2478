"""What the store knows of its own loading: the ingested-file ledger and the quarantine."""

from __future__ import annotations

import duckdb


def files(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """Every ingest of a file, oldest first, with its accounting."""
    rows = con.execute(
        """
        select file_id, path, sha256, size_bytes, format, read, loaded, duplicates, rejected,
               coalesce(skipped, 0), finished_at
        from ingested_files
        order by file_id
        """
    ).fetchall()
    keys = (
        "file_id path sha256 size_bytes format read loaded duplicates rejected skipped finished_at"
    ).split()
    return [dict(zip(keys, r, strict=True)) for r in rows]


def waiting(con: duckdb.DuckDBPyConnection) -> dict:
    """Spans `tierwatch collect` received whose trace is not complete yet (in no file's
    accounting until it is derived)."""
    spans, traces = con.execute(
        "select count(*), count(distinct trace_id) from collected_spans where derived_in is null"
    ).fetchone()
    return {"spans": spans, "traces": traces}


def rejects(
    con: duckdb.DuckDBPyConnection, path: str | None = None, limit: int | None = None
) -> list[dict]:
    """Quarantined records (of the latest ingest of `path`, or of every file), in file order.

    Each has the file, its line (or Parquet row), the field at fault, the reason and the
    record's text as read.
    """
    rows = con.execute(
        """
        with latest as (
            select path, max(file_id) as file_id from ingested_files group by path
        )
        select r.path, r.line, r.field, r.reason, r.raw
        from rejects as r
        join latest as l using (file_id)
        where $path is null or r.path = $path
        order by r.file_id, r.line
        limit $limit
        """,
        {"path": path, "limit": limit if limit is not None else 2**62},
    ).fetchall()
    return [dict(zip(("path", "line", "field", "reason", "raw"), r, strict=True)) for r in rows]
