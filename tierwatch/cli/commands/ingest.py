"""`tierwatch ingest`: load task-log files into the store."""

from __future__ import annotations

import json
import shlex
import sys
from collections import Counter

import click

from tierwatch.cli.errors import fail
from tierwatch.cli.options import EXIT_USAGE, config_option, db_option
from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import FORMATS, IngestError, fallbacks_note, ingest_paths
from tierwatch.ingest.sources import SOURCES
from tierwatch.ingest.store import CLI_LOCK_WAIT, open_store, schema_version

EXIT_REJECTED = 1
PROGRESS_MIN_BYTES = 8 << 20  # a bar for files from 8 MB on
FILES_LISTED = 20  # past this many files, only those with rejects are listed one by one


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
    is loaded atomically; small files (a folder of LiteLLM's one-object-per-call logs)
    load many in one pass and transaction. Of more than 20 files, only those with rejects
    are listed one by one (tierwatch files lists every file).

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
        many = len(report.files) > FILES_LISTED
        for f in report.files:
            if not many or f.rejected:
                _echo_file(f, db, summary=not many)
        if many:
            quiet = sum(1 for f in report.files if not f.rejected)
            more = "more " if quiet < len(report.files) else ""
            click.echo(
                f"{quiet:,} {more}files with nothing rejected; list each file with: "
                f"tierwatch files --db {shlex.quote(str(db))}"
            )
            for form in SOURCES:
                if of := [f for f in report.files if f.format == form]:
                    click.echo(f"  {_sources_summary(of)}")
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


def _echo_file(f, db, summary: bool = True) -> None:
    """A file's accounting line, what it was (a source's summary) and its rejects."""
    skipped = f", skipped {f.skipped}" if f.format in SOURCES else ""
    click.echo(
        f"{f.path}: read {f.read}, loaded {f.loaded}, duplicates {f.duplicates}, "
        f"rejected {f.rejected}{skipped}"
    )
    if summary and f.format in SOURCES:
        click.echo(f"  {_sources_summary([f])}")
    for r in f.rejects:
        click.echo(f"  {f.path} {r.where}: {r.reason}")
    if f.rejected > len(f.rejects):
        click.echo(
            f"  ... and {f.rejected - len(f.rejects)} more; list them all with: "
            f"tierwatch rejects {shlex.quote(f.path)} --db {shlex.quote(str(db))}"
        )


def _sources_summary(files) -> str:
    """What source files of one format were, gave and lack, in a few lines: of one file,
    or summed over a folder of them (LiteLLM's S3 logger writes one per call)."""
    kinds = Counter()
    for f in files:
        kinds.update(f.skipped_kinds)
    failures = sum(f.downstream_failures for f in files)
    attempts = sum(f.loaded + f.duplicates for f in files) - failures
    gave = f"{attempts:,} attempts"
    if failures:
        gave += f", {failures:,} downstream failure{'s' if failures > 1 else ''}"
    text = f"{_SOURCE_NAMES[files[0].format]}: {gave}"
    if len(files) > 1:
        text = f"{len(files):,} {_SOURCE_NAMES[files[0].format]} files: {gave}"
    if kinds:
        text += "; skipped: " + ", ".join(f"{kind} {n}" for kind, n in kinds.most_common())
    if unpriced := sorted({m for f in files for m in f.unpriced_models}):
        text += (
            "\n  no price of their own (priced at their tier's representative; add "
            "[[prices]] to tierwatch.toml): " + ", ".join(unpriced)
        )
    answered = sum(f.fallbacks_not_logged[0] for f in files)
    failed = sum(f.fallbacks_not_logged[1] for f in files)
    if note := fallbacks_note(answered, failed):
        text += f"\n  {note} (see docs/sources.md)"
    lacking = Counter(why for f in files for why in f.missing)
    loaded = sum(1 for f in files if f.loaded)
    if none := [why for why, n in lacking.items() if n == loaded]:
        text += (
            "\n  none carries what some analyses need: "
            + "; ".join(none)
            + " (see docs/sources.md)"
        )
    some = [
        f"{why} ({n:,} of {loaded:,} files carry none)" for why, n in lacking.items() if n < loaded
    ]
    if some:
        text += "\n  some files lack what some analyses need: " + "; ".join(some)
    return text


COMMANDS = [ingest]
