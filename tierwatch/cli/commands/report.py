"""`tierwatch report`: one routing analysis over the store, as tables or JSON."""

from __future__ import annotations

import json
import sys

import click

from tierwatch.cli.errors import fail
from tierwatch.cli.gate import gate_failures
from tierwatch.cli.options import config_option, db_option, parse_selection
from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import CLI_LOCK_WAIT, open_store
from tierwatch.queries import QueryError
from tierwatch.queries.report import REPORTS, LadderMismatch, build_report

EXIT_GATE = 1
_LIST = "\n".join(f"  {name:<16} {about}" for name, (_, about) in REPORTS.items())


def selection_options(command):
    """--db, --config, the selection, --json and --fail-on: what every report command takes."""
    for option in reversed(
        [
            db_option,
            config_option,
            click.option("--since", metavar="DATE", help="First UTC day to include (YYYY-MM-DD)."),
            click.option(
                "--until", metavar="DATE", help="Last UTC day to include (YYYY-MM-DD, inclusive)."
            ),
            click.option(
                "--fleet",
                "fleets",
                multiple=True,
                metavar="NAME",
                help="Only this fleet (repeatable).",
            ),
            click.option(
                "--task-type",
                "task_types",
                multiple=True,
                metavar="NAME",
                help="Only this task type (repeatable).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print the result as JSON."),
            click.option(
                "--fail-on",
                "conditions",
                multiple=True,
                metavar="KEY>NUMBER",
                help="Exit 1 when this holds anywhere in the report, e.g. 'escalation_rate>0.3' "
                "(also >=, <, <=; repeatable). Keys: docs/reports.md.",
            ),
        ]
    ):
        command = option(command)
    return command


def run_report(name, db, config_path, since, until, fleets, task_types, as_json, conditions,
               **options) -> dict:  # fmt: skip
    """Build report `name`, print it (text or JSON), apply the --fail-on gate: exit 2 on a
    bad selection or condition, 1 when a condition holds. Returns the result."""
    config = load_config(config_path)
    try:
        filters = parse_selection(since, until, fleets, task_types)
        with open_store(db, read_only=True, wait=CLI_LOCK_WAIT) as con:
            result = build_report(con, name, config, filters, **options)
        failures = [f for condition in conditions for f in gate_failures(result, condition)]
    except LadderMismatch as e:
        fail(f"{e} (--config)")
    except QueryError as e:
        fail(f"{e}")
    if as_json:
        click.echo(json.dumps(result, indent=2, ensure_ascii=False, allow_nan=False))
    else:
        click.echo(render_text(name, result))
    if failures:
        click.echo(f"tierwatch: --fail-on: {len(failures)} failing:", err=True)
        for failure in failures:
            click.echo(f"  {failure}", err=True)
        sys.exit(EXIT_GATE)
    return result


@click.command(
    help=f"""Print one routing analysis of the fleet in the store.

\b
Reports:
{_LIST}

Human-readable tables by default; --json prints one object with the stable keys of
docs/reports.md. Semantics of every number: docs/metrics.md.

A CI gate: --fail-on 'escalation_rate>0.3' exits 1 when the report's number (top
level, or any row of its lists, e.g. any task type) passes the limit, after printing the
report; the rows that did are listed on stderr.

Exit status: 0 with a result, and 0 with a plain message when the database or the
selection holds nothing; 1 when a --fail-on condition holds; 2 for a bad date, a config
whose tiers differ from the database's, a bad --fail-on, a missing database or a bad
config.
"""
)
@click.argument("name", metavar="REPORT", type=click.Choice(list(REPORTS)))
@selection_options
def report(name, db, config_path, since, until, fleets, task_types, as_json, conditions):
    run_report(name, db, config_path, since, until, fleets, task_types, as_json, conditions)


COMMANDS = [report]
