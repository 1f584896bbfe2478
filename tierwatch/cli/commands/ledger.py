"""`tierwatch files` and `tierwatch rejects`: what was loaded, and what was quarantined."""

from __future__ import annotations

import csv
import json
import sys

import click

from tierwatch.cli.options import db_option
from tierwatch.ingest import ledger
from tierwatch.ingest.store import CLI_LOCK_WAIT, open_store


@click.command()
@db_option
@click.option("--json", "as_json", is_flag=True, help="Print the ledger as JSON (every row).")
@click.option(
    "--batches",
    is_flag=True,
    help="List each batch of tierwatch collect, not their sums per hour.",
)
def files(db, as_json, batches):
    """List every file ingested into the store, and what `tierwatch collect` wrote, with
    its accounting.

    read = loaded + duplicates + rejected + skipped for every row (skipped: spans and
    records that are not model calls); a file loaded twice appears twice. The receiver's
    batches are summed per hour (--batches lists each); the spans it received whose trace
    is not complete yet are counted on the last line.
    """
    with open_store(db, wait=CLI_LOCK_WAIT) as con:
        rows = ledger.files(con, batches=as_json or batches)
        hours = [] if as_json or batches else ledger.collect_hours(con)
        waiting = ledger.waiting(con)
    if as_json:
        click.echo(json.dumps(rows, default=str, indent=2))
        return
    if not rows and not hours:
        click.echo(f"no files ingested into {db} yet; load some with: tierwatch ingest PATH")
        return
    for r in rows:
        click.echo(f"{r['finished_at']:%Y-%m-%d %H:%M}  {r['path']}: {_accounting(r)}")
    for h in hours:
        click.echo(
            f"{h['hour']:%Y-%m-%d %H}:00  {h['receiver']}, {h['batches']} batches: {_accounting(h)}"
        )
    if waiting["spans"]:
        click.echo(
            f"{waiting['spans']} spans of {waiting['traces']} traces received by tierwatch "
            f"collect wait for their trace to complete (docs/collect.md)"
        )


def _accounting(r: dict) -> str:
    skipped = f", skipped {r['skipped']}" if r["skipped"] else ""
    return (
        f"read {r['read']}, loaded {r['loaded']}, duplicates {r['duplicates']}, "
        f"rejected {r['rejected']}{skipped}"
    )


@click.command()
@click.argument("path", required=False)
@db_option
@click.option("--limit", type=click.IntRange(min=1), help="Show at most this many.")
@click.option(
    "--format",
    "out",
    type=click.Choice(["text", "json", "csv"]),
    default="text",
    show_default=True,
    help="text for reading, json or csv (with the raw record text) for tools.",
)
def rejects(path, db, limit, out):
    """List quarantined records: file, line, reason and the record as read.

    With PATH (as `tierwatch files` shows it), only that file's latest ingest. Fix the
    records and load the file again: the good ones already loaded count as duplicates.
    """
    with open_store(db, wait=CLI_LOCK_WAIT) as con:  # streamed: rejects can be millions
        rows = ledger.rejects(con, path, limit)
        if out == "json":
            _json_array(rows)
        elif out == "csv":
            fields = ["path", "line", "field", "reason", "raw"]
            writer = csv.DictWriter(sys.stdout, fieldnames=fields)
            writer.writeheader()
            writer.writerows(rows)
        else:
            shown = 0
            for r in rows:
                click.echo(f"{r['path']} line {r['line']}: {r['reason']}")
                shown += 1
            if not shown:
                click.echo("no quarantined records" + (f" for {path}" if path else ""))


def _json_array(rows) -> None:
    """What json.dumps(list(rows), indent=2) prints, written a row at a time."""
    first = True
    for row in rows:
        text = json.dumps(row, indent=2, ensure_ascii=False).replace("\n", "\n  ")
        sys.stdout.write(("[\n  " if first else ",\n  ") + text)
        first = False
    sys.stdout.write("[]\n" if first else "\n]\n")


COMMANDS = [files, rejects]
