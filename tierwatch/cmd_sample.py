"""`tierwatch sample`: write the simulated sample fleet's task logs (ingest/sample.py)."""

from __future__ import annotations

import sys

import click

from ingest.sample import SampleError, write_sample


@click.command("sample")
@click.option(
    "--out",
    "out_dir",
    default="sample_data",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to write the log files into (created if missing; files of the same "
    "names are replaced).",
)
@click.option(
    "--days",
    default=30,
    show_default=True,
    type=click.IntRange(min=1),
    help="Days of fleet activity, from 2026-09-01 (the Sonnet model changes on day 16).",
)
@click.option(
    "--tasks-per-day",
    default=500,
    show_default=True,
    type=click.IntRange(min=1),
    help="Executor tasks per day across all fleets (about; whole plans only).",
)
@click.option(
    "--seed",
    default=7,
    show_default=True,
    type=int,
    help="Random seed; the same options always write the same bytes.",
)
def sample(out_dir: str, days: int, tasks_per_day: int, seed: int) -> None:
    """Write a simulated agent fleet's task logs with one planted case of each routing
    failure mode (see docs/sample-data.md).

    Four fleets (content pipeline, competitive research, ops status checks, legal
    clause review) in log format v1: gzip JSONL, one CSV, and a file of downstream
    failures reported later. Load them with `tierwatch ingest DIR`.
    """
    try:
        paths = write_sample(out_dir, days=days, tasks_per_day=tasks_per_day, seed=seed)
    except SampleError as e:
        click.echo(f"tierwatch: error: {e}", err=True)
        sys.exit(2)
    for path in paths:
        click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
    click.echo(f"Load them with: tierwatch ingest {out_dir}")


COMMANDS = [sample]
