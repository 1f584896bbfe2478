"""The options more than one command takes, and the exit status for usage errors."""

from __future__ import annotations

import click

from tierwatch.ingest import environment
from tierwatch.queries import Filters

EXIT_USAGE = 2

db_option = click.option(
    "--db",
    "db",
    envvar=environment.variable("db"),
    default=str(environment.default("db")),
    show_default=True,
    type=click.Path(dir_okay=False),
    help=f"The DuckDB store (env {environment.variable('db')}).",
)
config_option = click.option(
    "--config",
    "config_path",
    envvar=environment.variable("config"),
    default=None,
    type=click.Path(dir_okay=False),
    help="tierwatch.toml with the tier ladder and prices (env TIERWATCH_CONFIG); "
    "without one, the built-in Haiku < Sonnet < Opus defaults.",
)


def parse_selection(since, until, fleets, task_types) -> Filters:
    """The reports' selection from --since, --until, --fleet and --task-type; a QueryError
    naming the option for a bad date."""
    return Filters.parse(since, until, fleets, task_types, names=("--since", "--until"))
