"""`tierwatch sample`: write the simulated sample fleet's task logs (ingest/sample.py)."""

from __future__ import annotations

import click

from tierwatch.cli.errors import fail
from tierwatch.ingest.sample import SampleError, write_sample, write_sample_otlp


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
@click.option(
    "--format",
    "form",
    type=click.Choice(["v1", "otlp"]),
    default="v1",
    show_default=True,
    help="v1: tierwatch's log format; otlp: the same fleet as OpenTelemetry traces "
    "(OTLP/JSON, one request per line, gzip), as an instrumented fleet exports them.",
)
def sample(out_dir: str, days: int, tasks_per_day: int, seed: int, form: str) -> None:
    """Write a simulated agent fleet's task logs with one planted case of each routing
    failure mode (see docs/sample-data.md).

    Four fleets (content pipeline, competitive research, ops status checks, legal
    clause review) in log format v1: gzip JSONL, one CSV, and a file of downstream
    failures reported later. Load them with `tierwatch ingest DIR`.

    With --format otlp, the same fleet as OpenTelemetry traces (fleet.otlp.json.gz), the
    way an instrumented fleet exports it: loaded into its own store, it gives the same
    attempts and reports. Write it to another folder than the v1 files: the two forms
    of one fleet in one store conflict.
    """
    write = write_sample_otlp if form == "otlp" else write_sample
    try:
        paths = write(out_dir, days=days, tasks_per_day=tasks_per_day, seed=seed)
    except SampleError as e:
        fail(f"{e}")
    for path in paths:
        click.echo(f"wrote {path} ({path.stat().st_size:,} bytes)")
    click.echo(f"Load them with: tierwatch ingest {out_dir}")


COMMANDS = [sample]
