"""`tierwatch ingest`: load task-log files into the store."""

from __future__ import annotations

import json
import shlex
import sys

import click

from tierwatch.cli.errors import fail
from tierwatch.cli.options import EXIT_USAGE, config_option, db_option
from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import FORMATS, IngestError, ingest_paths
from tierwatch.ingest.sources import SOURCES
from tierwatch.ingest.store import CLI_LOCK_WAIT, open_store, schema_version

EXIT_REJECTED = 1
PROGRESS_MIN_BYTES = 8 << 20  # a bar for files from 8 MB on


class _Bars:
    """One click progress bar per large file, on a terminal only."""

    def __init__(self) -> None:
        self.bar = None
        self.path = None

    def __call__(self, path, done: int, total: int) -> None:
        if total < PROGRESS_MIN_BYTES:
            return
        if path != self.path:
            self.close()
            self.path = path
            self.bar = click.progressbar(length=total, label=str(path), file=sys.stderr)
            self.bar.__enter__()
        self.bar.update(done - self.bar.pos)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=str))
@db_option
@config_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("auto",) + FORMATS),
    default="auto",
    show_default=True,
    help="Input format; auto tells it from the content (OpenTelemetry OTLP/JSON or "
    "protobuf, LiteLLM logs, Langfuse exports, log format v1) and the file name "
    "(.jsonl/.json/.ndjson, .csv, .parquet, .pb, each optionally .gz).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the accounting as JSON.")
def ingest(paths, db, config_path, fmt, as_json):
    """Load task logs (files, folders, globs) into the DuckDB store.

    Each record is checked against log format v1 (docs/log-format.md). A bad record is
    not loaded: it is quarantined in the store's rejects table with its line and reason,
    and the file's good records still load. Loading a file again adds nothing. Each file
    is loaded atomically.

    Exit status: 0 when every record loaded or was a duplicate, 1 when some were rejected,
    2 for usage errors and files that cannot be read.
    """
    config = load_config(config_path)
    if not paths:
        with open_store(db, read_only=False, wait=CLI_LOCK_WAIT) as con:
            version = schema_version(con)
        click.echo(f"{db}: schema version {version}; no files given (tierwatch ingest PATH...)")
        return
    bars = _Bars() if sys.stderr.isatty() and not as_json else None
    try:
        report = ingest_paths(db, paths, config, fmt=fmt, progress=bars, lock_wait=CLI_LOCK_WAIT)
    except IngestError as e:
        fail(f"{e}")
    finally:
        if bars:
            bars.close()

    if as_json:
        click.echo(json.dumps(report.to_json(), indent=2))
    else:
        for f in report.files:
            skipped = f", skipped {f.skipped}" if f.format in SOURCES else ""
            click.echo(
                f"{f.path}: read {f.read}, loaded {f.loaded}, duplicates {f.duplicates}, "
                f"rejected {f.rejected}{skipped}"
            )
            if f.format in SOURCES:
                click.echo(f"  {_source_summary(f)}")
            for r in f.rejects:
                click.echo(f"  {f.path} {r.where}: {r.reason}")
            if f.rejected > len(f.rejects):
                click.echo(
                    f"  ... and {f.rejected - len(f.rejects)} more; list them all with: "
                    f"tierwatch rejects {shlex.quote(f.path)} --db {shlex.quote(str(db))}"
                )
        t = report.totals
        if len(report.files) > 1:
            skipped = f", skipped {t['skipped']}" if t.get("skipped") else ""
            click.echo(
                f"total: read {t['read']}, loaded {t['loaded']}, duplicates {t['duplicates']}, "
                f"rejected {t['rejected']}{skipped} in {len(report.files)} files"
            )
    for _path, why in report.errors:
        click.echo(f"tierwatch: error: {why}", err=True)
    if report.errors:
        sys.exit(EXIT_USAGE)
    if report.totals["rejected"]:
        if not as_json:
            click.echo(
                "some records were rejected (listed above) and not loaded; fix them and load "
                "the file again: the records already loaded count as duplicates",
                err=True,
            )
        sys.exit(EXIT_REJECTED)


_SOURCE_NAMES = {
    "otlp": "OpenTelemetry trace",
    "litellm": "LiteLLM log",
    "langfuse": "Langfuse export",
}


def _source_summary(f) -> str:
    """One line on what a source file was, what it gave and what it lacks."""
    kinds = ", ".join(f"{kind} {n}" for kind, n in f.skipped_kinds.most_common())
    text = f"{_SOURCE_NAMES[f.format]}: {f.loaded + f.duplicates} attempts"
    if kinds:
        text += f"; skipped: {kinds}"
    if f.unpriced_models:
        text += (
            "\n  no price of their own (priced at their tier's representative; add "
            "[[prices]] to tierwatch.toml): " + ", ".join(f.unpriced_models)
        )
    if note := f.fallbacks_note():
        text += f"\n  {note} (see docs/sources.md)"
    if f.missing:
        text += (
            "\n  none carries what some analyses need: "
            + "; ".join(f.missing)
            + " (see docs/sources.md)"
        )
    return text


COMMANDS = [ingest]
