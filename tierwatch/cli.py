"""The `tierwatch` command: a thin shell over ingest/ and queries/.

Each subcommand opens the store, calls one library function and turns the library's
exceptions into a one-line message and an exit code; no traceback reaches a user for
bad input.
"""

from __future__ import annotations

import sys

import click
import duckdb

from ingest.config import ConfigError
from ingest.store import StoreError, explain

EXIT_USAGE = 2

db_option = click.option(
    "--db",
    "db",
    envvar="TIERWATCH_DB",
    default="tierwatch.duckdb",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="The DuckDB store (env TIERWATCH_DB).",
)
config_option = click.option(
    "--config",
    "config_path",
    envvar="TIERWATCH_CONFIG",
    default=None,
    type=click.Path(dir_okay=False),
    help="tierwatch.toml with the tier ladder and prices (env TIERWATCH_CONFIG); "
    "without one, the built-in Haiku < Sonnet < Opus defaults.",
)


class TierwatchGroup(click.Group):
    """Maps library errors to clean messages and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ConfigError, StoreError) as e:
            click.echo(f"tierwatch: error: {e}", err=True)
            sys.exit(EXIT_USAGE)
        except duckdb.OutOfMemoryException:
            click.echo(
                "tierwatch: error: DuckDB ran out of memory; nothing was changed. Give a load "
                "more with TIERWATCH_INGEST_MEMORY=4GB, or free memory on this machine",
                err=True,
            )
            sys.exit(EXIT_USAGE)
        except (duckdb.Error, OSError) as e:
            click.echo(f"tierwatch: error: {explain(e)}", err=True)
            sys.exit(EXIT_USAGE)


@click.group(cls=TierwatchGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="tierwatch")
def main() -> None:
    """Observability for model-tier routing in LLM agent fleets.

    Load a fleet's task logs with `tierwatch ingest`, read the analyses with
    `tierwatch report`, decide with `tierwatch simulate` (what a routing table would
    cost and fail) and `tierwatch optimize` (the cheapest table the evidence supports,
    and what to explore), browse it all with `tierwatch dashboard`; `tierwatch demo`
    does all of it on a simulated sample fleet.
    """


def _register() -> None:
    from tierwatch import (
        cmd_collect,
        cmd_dashboard,
        cmd_ingest,
        cmd_ledger,
        cmd_report,
        cmd_sample,
        cmd_whatif,
    )

    for module in (
        cmd_ingest,
        cmd_collect,
        cmd_ledger,
        cmd_report,
        cmd_whatif,
        cmd_sample,
        cmd_dashboard,
    ):
        for command in module.COMMANDS:
            main.add_command(command)


_register()
