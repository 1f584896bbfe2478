"""`tierwatch simulate` and `tierwatch optimize`: the what-if over the store, as tables or
JSON, with the same selection, --json and --fail-on as `tierwatch report`."""

from __future__ import annotations

from pathlib import Path

import click

from tierwatch.cli.commands.report import run_report, selection_options
from tierwatch.cli.errors import fail
from tierwatch.ingest.config import load_config
from tierwatch.queries import QueryError
from tierwatch.queries.simulate import TABLE_SOURCES
from tierwatch.queries.whatif import TABLE_FORMATS, parse_table, table_format, write_table


def _read_table(source: str, config_path: str | None):
    if source in TABLE_SOURCES:
        return source
    path = Path(source)
    ladder = load_config(config_path).ladder
    try:
        text = path.read_text(encoding="utf-8")
        return parse_table(text, table_format(path.name), str(path), ladder)
    except FileNotFoundError:
        raise QueryError(
            f"{path}: no such file; --table takes a routing-table file (.yaml, .json, .csv) "
            f"or one of {', '.join(TABLE_SOURCES)}"
        ) from None
    except UnicodeDecodeError:
        raise QueryError(f"{path}: not UTF-8 text; a routing table is YAML, JSON or CSV") from None


@click.command()
@click.option(
    "--table",
    "table_source",
    default="flags",
    show_default=True,
    metavar="FILE|SOURCE",
    help="The routing table to simulate: a file (.yaml, .json, .csv, as the Re-tiering page "
    "and `tierwatch optimize --write` export it: task_type, routed_tier, optionally ceiling), "
    "or 'flags' (the routing table with the re-tiering flags applied), 'observed' (each task "
    "type on the tier it ran on most), 'recommendations' (every tier move the "
    "recommendations make).",
)
@selection_options
def simulate(table_source, db, config_path, since, until, fleets, task_types, as_json, conditions):
    """What a routing table would cost and how often it would fail.

    Per task type and for the fleet: cost per day and month, first-pass, final and
    downstream failure rates, each with a 95% interval, beside what was realized; every
    estimate says whether it was observed, borrowed (and from where) or is unknown
    (docs/metrics.md, "What-if"). Task types the table leaves out stay where they run.

    Exit status: 0 with a result; 1 when a --fail-on condition holds (e.g.
    --fail-on 'failure_rate>0.05'); 2 for a bad table file, selection or condition.
    """
    try:
        table = _read_table(table_source, config_path)
    except QueryError as e:
        fail(f"{e}")
    run_report(
        "simulate", db, config_path, since, until, fleets, task_types, as_json, conditions,
        table=table,
    )  # fmt: skip


@click.command()
@click.option(
    "--max-failure-rate",
    type=click.FloatRange(0, 1),
    metavar="RATE",
    help="The cheapest table whose fleet failure rate (final or downstream) is at most RATE.",
)
@click.option(
    "--max-downstream-per-day",
    type=click.FloatRange(0),
    metavar="N",
    help="The cheapest table with at most N downstream failures a day.",
)
@click.option(
    "--write",
    "write_path",
    type=click.Path(dir_okay=False),
    metavar="FILE",
    help="Also write the optimised table, with each exploration move, to FILE "
    "(.yaml, .json or .csv; `tierwatch simulate --table FILE` reads it back).",
)
@selection_options
def optimize(
    max_failure_rate, max_downstream_per_day, write_path, db, config_path, since, until,
    fleets, task_types, as_json, conditions,
):  # fmt: skip
    """The cheapest routing table the evidence supports, and what to explore.

    Without a bound, each task type goes to the start tier of least cost plus
    failure_cost_usd per downstream failure (the config's); with --max-failure-rate or
    --max-downstream-per-day, to the cheapest table that meets it. A tier is open to a
    task type only with min_evidence_tasks of its tasks started there (or where it runs
    now); a move that would need more goes to the exploration plan: how many tasks, for
    how long, at what cost, as a planner heuristic (docs/metrics.md, "Optimiser and
    exploration plan").

    Exit status: 0 with a result; 1 when a --fail-on condition holds; 2 for a bad bound,
    selection, condition or --write path.
    """
    if max_failure_rate is not None and max_downstream_per_day is not None:
        fail("give one bound: --max-failure-rate or --max-downstream-per-day")
    fmt = table_format(write_path) if write_path else None
    if write_path and fmt not in TABLE_FORMATS:
        fail(f"--write {write_path}: name a .yaml, .json or .csv file")
    result = run_report(
        "optimize", db, config_path, since, until, fleets, task_types, as_json, conditions,
        max_failure_rate=max_failure_rate, max_downstream_per_day=max_downstream_per_day,
    )  # fmt: skip
    if write_path and not result.get("empty"):
        Path(write_path).write_text(write_table(result["table"], fmt), encoding="utf-8")
        click.echo(f"wrote the optimised table to {write_path}", err=True)


COMMANDS = [simulate, optimize]
