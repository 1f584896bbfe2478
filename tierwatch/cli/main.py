"""The `tierwatch` command: a thin shell over ingest/ and queries/.

Each subcommand opens the store, calls one library function and turns the library's
exceptions into a one-line message and an exit code; no traceback reaches a user for
bad input.
"""

from __future__ import annotations

import importlib

import click

from tierwatch.cli.errors import TierwatchGroup
from tierwatch.ingest import environment

# each command and the module of tierwatch/cli/commands/ that holds it (its COMMANDS),
# imported only when the command runs or help lists it: a one-shot `tierwatch report` in a
# CI job loads neither the receiver nor the ingest engine
COMMANDS = {
    "collect": "collect",
    "dashboard": "dashboard",
    "demo": "dashboard",
    "export": "lake",
    "files": "ledger",
    "ingest": "ingest",
    "optimize": "whatif",
    "rejects": "ledger",
    "report": "report",
    "rollup": "lake",
    "sample": "sample",
    "simulate": "whatif",
}


class _Commands(TierwatchGroup):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in COMMANDS:
            return None
        module = importlib.import_module(f"tierwatch.cli.commands.{COMMANDS[name]}")
        return next(c for c in module.COMMANDS if c.name == name)


@click.group(cls=_Commands, context_settings={"help_option_names": ["-h", "--help"]})
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
