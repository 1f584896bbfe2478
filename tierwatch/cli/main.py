"""The `tierwatch` command: a thin shell over ingest/ and queries/.

Each subcommand opens the store, calls one library function and turns the library's
exceptions into a one-line message and an exit code; no traceback reaches a user for
bad input.
"""

from __future__ import annotations

import click

from tierwatch.cli.commands import (
    collect,
    dashboard,
    ingest,
    lake,
    ledger,
    report,
    sample,
    whatif,
)
from tierwatch.cli.errors import TierwatchGroup
from tierwatch.ingest import environment


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
    environment.check()  # a bad TIERWATCH_* variable stops every command at start


for module in (ingest, collect, ledger, report, whatif, sample, dashboard, lake):
    for command in module.COMMANDS:
        main.add_command(command)
