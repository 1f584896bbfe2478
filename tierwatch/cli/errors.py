"""Library errors turned into one-line messages and exit codes, in one place: no traceback
reaches a user for bad input."""

from __future__ import annotations

import sys

import click
import duckdb

from tierwatch.cli.options import EXIT_USAGE
from tierwatch.ingest import environment
from tierwatch.ingest.config import ConfigError
from tierwatch.ingest.environment import SettingError
from tierwatch.ingest.lake import LakeError
from tierwatch.ingest.store import StoreError, explain


class TierwatchGroup(click.Group):
    """Maps library errors to clean messages and exit status 2."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (ConfigError, LakeError, SettingError, StoreError) as e:
            fail(str(e))
        except duckdb.OutOfMemoryException:
            fail(
                "DuckDB ran out of memory; nothing was changed. Give a load more with "
                f"{environment.variable('ingest_memory')}=4GB, or free memory on this machine"
            )
        except (duckdb.Error, OSError) as e:
            fail(explain(e))


def fail(message: str, status: int = EXIT_USAGE):
    """Print `tierwatch: error: MESSAGE` on stderr and exit."""
    click.echo(f"tierwatch: error: {message}", err=True)
    sys.exit(status)
