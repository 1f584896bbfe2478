"""What the dashboard writes: flags, uploaded files and the sample fleet. Each starts at
`refuse_if_read_only` (a read-only dashboard or a viewer never opens the store to write)."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from pathlib import Path

from tierwatch.dashboard import access
from tierwatch.dashboard.connection import config, exclusive, refuse_if_read_only, writing
from tierwatch.dashboard.settings import MAX_UPLOAD_ENV, MAX_UPLOAD_ROWS_ENV, Settings, settings
from tierwatch.ingest import flags as flag_store
from tierwatch.ingest import load
from tierwatch.ingest.config import Config
from tierwatch.ingest.sample import load_sample


def set_flag(task_type: str, target_tier: str, *, who: str, reason: str, note: str):
    """Flag a task type; signed by the signed-in user when there is one (never the name
    typed), else by `who`."""
    with writing(what="set a flag") as con:
        who = access.signed_in_user() or who
        return flag_store.flag(
            con, task_type, target_tier, flagged_by=who, reason=reason, note=note
        )


def clear_flag(task_type: str, *, who: str, note: str):
    with writing(what="clear a flag") as con:
        who = access.signed_in_user() or who
        return flag_store.unflag(con, task_type, flagged_by=who, note=note)


class UploadRefused(Exception):
    """An upload this dashboard will not load (too big, too many rows); says why."""


def check_upload(name: str, data: bytes, limits: Settings) -> None:
    """Refuse an upload over the size cap, or a Parquet file whose metadata has too many rows.

    The row count comes from the Parquet footer, before any row is read.
    """
    mb = len(data) / 1_000_000
    if mb > limits.max_upload_mb:
        raise UploadRefused(
            f"{name}: {len(data):,} bytes is over this dashboard's upload limit of "
            f"{limits.max_upload_mb:g} MB; load it with `tierwatch ingest {name}` "
            f"or raise {MAX_UPLOAD_ENV}"
        )
    if Path(name).suffix.lower() in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            rows = pq.read_metadata(pa.BufferReader(data)).num_rows
        except (pa.ArrowInvalid, OSError) as e:
            raise UploadRefused(f"{name}: not a readable Parquet file ({e})") from None
        if rows > limits.max_upload_rows:
            raise UploadRefused(
                f"{name}: {rows:,} rows is over this dashboard's limit of "
                f"{limits.max_upload_rows:,}; load it with `tierwatch ingest {name}` or "
                f"raise {MAX_UPLOAD_ROWS_ENV}"
            )


def ingest_upload(name: str, data: bytes):
    """Load one uploaded file (ingest_uploads); its FileResult.

    Raises UploadRefused, load.IngestError or Unavailable with a message for the page.
    """
    ((_, outcome),) = ingest_uploads([(name, data)])
    if isinstance(outcome, Exception):
        raise outcome
    return outcome


def ingest_uploads(
    files: list[tuple[str, bytes]], progress: Callable[[str, int], None] | None = None
) -> list[tuple[str, object]]:
    """Load uploaded files as `tierwatch ingest` loads a folder: small ones many in one
    pass, a larger one alone (load.ingest_many), each written to a temp file with its own
    suffix. (name, its FileResult, or the UploadRefused or load.IngestError that kept it
    out) per file, in order; `progress(name, bytes)` as each is read.

    Raises Unavailable (a read-only dashboard, a store another process holds) for the page.
    """
    refuse_if_read_only("load a file")
    limits = settings()
    outcomes: dict[int, object] = {}
    with tempfile.TemporaryDirectory(prefix="tierwatch-upload-") as tmp:
        paths: dict[Path, int] = {}
        for i, (name, data) in enumerate(files):
            try:
                check_upload(name, data, limits)
            except UploadRefused as e:
                outcomes[i] = e
                continue
            suffixes = "".join(Path(name).suffixes[-2:]) or ".jsonl"
            path = Path(tmp) / f"upload-{i}{suffixes}"
            path.write_bytes(data)
            paths[path] = i
        if paths:
            names = {p: files[i][0] for p, i in paths.items()}
            bar = progress and (lambda p, done, _total: progress(names[p], done))
            with writing(limits.db, what="load a file") as con:
                for path, outcome in load.ingest_many(
                    con,
                    list(paths),
                    config(),
                    progress=bar,
                    names=names,
                    loaded_by=access.signed_in_user() or "dashboard (no sign-in)",
                ):
                    outcomes[paths[path]] = outcome
    return [(name, outcomes[i]) for i, (name, _) in enumerate(files)]


def load_sample_fleet(db: Path | None = None, cfg: Config | None = None):
    """Load the sample fleet into the store (ingest.sample.load_sample); the IngestReport."""
    db = db or settings().db
    cfg = cfg or config()
    with exclusive(db, "load the sample fleet"):
        return load_sample(db, cfg)
