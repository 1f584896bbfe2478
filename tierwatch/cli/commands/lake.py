"""`tierwatch export`: the store's records as a lake of Parquet files, for engines that run
where the data is (docs/scale.md)."""

from __future__ import annotations

import click

from tierwatch.cli.errors import fail
from tierwatch.cli.options import db_option, parse_selection
from tierwatch.ingest.lake import export_lake
from tierwatch.ingest.store import CLI_LOCK_WAIT, open_store
from tierwatch.queries import QueryError


@click.command()
@click.option(
    "--lake",
    required=True,
    metavar="FOLDER",
    type=click.Path(file_okay=True, dir_okay=True),
    help="The lake folder: new, empty, or one an earlier export wrote.",
)
@db_option
@click.option("--since", metavar="DATE", help="First UTC day to export (YYYY-MM-DD).")
@click.option("--until", metavar="DATE", help="Last UTC day to export (YYYY-MM-DD, inclusive).")
def export(lake, db, since, until):
    """Write the store's attempts and downstream failures as Parquet partitioned by day and
    fleet (LAKE/attempts/day=…/fleet=…/part-0.parquet), the layout Spark, DuckDB and Arrow
    read.

    Each day written replaces that day in the lake whole, so a nightly
    `tierwatch export --lake LAKE --since YESTERDAY` keeps a lake current and exporting a day
    twice never doubles it. Layout and columns: docs/scale.md.
    """
    try:
        selection = parse_selection(since, until, (), ())
    except QueryError as e:
        fail(str(e))
    with open_store(db, read_only=True, wait=CLI_LOCK_WAIT) as con:
        done = export_lake(con, lake, selection.since, selection.until, store_label=str(db))
    first, last = done.days[0], done.days[-1]
    span = f"{len(done.days)} days, {first} to {last}" if len(done.days) > 1 else f"{first}"
    replaced = (
        f"; {len(done.replaced)} of them replaced what the lake held" if done.replaced else ""
    )
    click.echo(
        f"exported {done.rows['attempts']:,} attempts and "
        f"{done.rows['downstream_failures']:,} downstream failures ({span}) to {done.lake}"
        f"{replaced}"
    )
    click.echo(f"read it with: spark.read.parquet('{done.lake / 'attempts'}')")


COMMANDS = [export]
