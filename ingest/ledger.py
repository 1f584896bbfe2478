"""What the store knows of its own loading: the ingested-file ledger and the quarantine."""

from __future__ import annotations

from collections.abc import Iterator

import duckdb


def files(con: duckdb.DuckDBPyConnection, batches: bool = True) -> list[dict]:
    """Every ingest of a file, oldest first, with its accounting; with `batches=False`,
    without the batches of `tierwatch collect` (see `collect_hours`)."""
    rows = con.execute(
        """
        select file_id, path, sha256, size_bytes, format, read, loaded, duplicates, rejected,
               coalesce(skipped, 0), finished_at
        from ingested_files
        where $batches or format <> 'otlp-http'
        order by file_id
        """,
        {"batches": batches},
    ).fetchall()
    keys = (
        "file_id path sha256 size_bytes format read loaded duplicates rejected skipped finished_at"
    ).split()
    return [dict(zip(keys, r, strict=True)) for r in rows]


def collect_hours(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """`tierwatch collect`'s batches summed per receiver and UTC hour, oldest first (a
    busy receiver writes a batch a second)."""
    rows = con.execute(
        """
        select regexp_extract(path, '^(.*) batch \\d+ at ', 1) as receiver,
               date_trunc('hour', finished_at) as hour,
               count(*), sum(read), sum(loaded), sum(duplicates), sum(rejected),
               sum(coalesce(skipped, 0))
        from ingested_files
        where format = 'otlp-http'
        group by all
        order by hour, receiver
        """
    ).fetchall()
    keys = "receiver hour batches read loaded duplicates rejected skipped".split()
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
) -> Iterator[dict]:
    """Quarantined records (of the latest ingest of `path`, or of every file), in file order,
    fetched a block at a time: a million rejects are listed in the memory of a few thousand.

    Each has the file, its line (or Parquet row), the field at fault, the reason and the
    record's text as read.
    """
    result = con.execute(
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
    )
    while block := result.fetchmany(REJECTS_BLOCK):
        for r in block:
            yield dict(zip(("path", "line", "field", "reason", "raw"), r, strict=True))


REJECTS_BLOCK = 5_000
