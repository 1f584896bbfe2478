"""`tierwatch export` and `tierwatch rollup`: the store's records as a lake of Parquet files,
and a lake's rollups computed where the data is and served from a store (docs/scale.md)."""

from __future__ import annotations

import click

from tierwatch.cli.errors import fail
from tierwatch.cli.options import config_option, db_option, parse_selection
from tierwatch.ingest.config import load_config
from tierwatch.ingest.lake import export_lake
from tierwatch.ingest.store import CLI_LOCK_WAIT, ensure_ladder, open_store
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


@click.command()
@click.option(
    "--engine",
    type=click.Choice(["spark"]),
    default="spark",
    show_default=True,
    help="The engine that reads the lake and computes the rollups.",
)
@click.option(
    "--lake",
    required=True,
    metavar="PATH_OR_URL",
    help="The lake: a folder, or a URL the engine reads (s3a://, abfss://, hdfs://); "
    "its layout is tierwatch export's.",
)
@click.option(
    "--master",
    default="local[2]",
    show_default=True,
    metavar="URL",
    help="Where Spark runs: local[N], spark://HOST:7077, yarn, ...",
)
@db_option
@config_option
@click.option(
    "--conf",
    "spark_conf",
    multiple=True,
    metavar="KEY=VALUE",
    help="A Spark setting for the run, e.g. spark.executor.memory=8g (repeatable).",
)
@click.option("--full", is_flag=True, help="Roll up every day, changed or not.")
@click.option(
    "--rejects",
    "rejects_to",
    metavar="PATH_OR_URL",
    help="Where to write the rows the format's rules refuse, as Parquet partitioned by day; a "
    "run replaces the days it rolls up [default: LAKE/_rejects].",
)
def rollup(engine, lake, master, db, config_path, spark_conf, full, rejects_to):
    """Compute every rollup the reports and pages read from a lake of attempts, with Apache
    Spark, and load them into the store at --db, which then holds no records, only their
    rollups: `tierwatch report` and the dashboard serve it as any store.

    The lake's rows are checked by the format's rules first: a row a rule refuses is left
    out, counted, and written with its reason to --rejects. Incremental by partition: only
    the days whose files changed since the last run are rolled up again (with the days
    their tasks span). Needs pip install 'tierwatch[spark]' and Java 17; docs/scale.md.
    """
    from tierwatch.ingest.lake_rollup import roll_up

    config = load_config(config_path)
    settings = []
    for item in spark_conf:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            fail(f"--conf {item!r}: write it as KEY=VALUE, e.g. spark.executor.memory=8g")
        settings.append((key.strip(), value.strip()))
    spark = _spark(master, settings)
    rejects_to = rejects_to or f"{lake.rstrip('/')}/_rejects"
    from pyspark.errors import PySparkException

    try:
        with open_store(db, read_only=False, wait=CLI_LOCK_WAIT) as con:
            ensure_ladder(con, config)
            done = roll_up(con, spark, lake, str(db), full=full, rejects_to=rejects_to)
    except PySparkException as e:
        fail(
            f"Spark could not roll up {lake}; the store is unchanged. Spark said: "
            f"{str(e).splitlines()[0][:400]}. If the lake is in tierwatch export's layout "
            "(docs/scale.md), this is a bug in tierwatch: please report it with that line"
        )
    finally:
        spark.stop()
    if done.read is None:
        click.echo(
            f"{done.lake}: no day's files changed since the last rollup ({done.unchanged} "
            f"days current); nothing to do"
        )
        return
    days = done.days
    span = f"{days[0]} to {days[-1]}" if len(days) > 1 else f"{days[0]}" if days else "none"
    why = f" ({done.full})" if done.full else f"; {done.unchanged} days unchanged"
    count = f"{len(days)} day" + ("s" if len(days) != 1 else "")
    click.echo(f"rolled up {count} of {done.lake}, {span}{why}")
    read = done.read
    for table in ("attempts", "downstream_failures"):
        label = table.replace("_", " ")
        click.echo(
            f"{label}: read {read.rows[table]:,}, rejected {read.rejected[table]:,}, "
            f"duplicates {read.duplicates[table]:,}"
        )
    if read.days_checked is not None:
        click.echo(
            f"checked the rows of {read.days_checked} of the lake's "
            f"{len(days) + done.unchanged} days: the days rolled up and the days their "
            "tasks have rows on"
        )
    if sum(read.rejected.values()):
        click.echo(f"rejected rows and their reasons: {rejects_to} (Parquet)")
    click.echo(f"{sum(done.rows.values()):,} rollup rows loaded into {db}")
    click.echo(f"next: tierwatch report summary --db {db}")


def _spark(master: str, settings: list[tuple[str, str]]):
    try:
        from pyspark.sql import SparkSession
    except ImportError:
        fail(
            "tierwatch rollup --engine spark needs pyspark: pip install 'tierwatch[spark]' "
            "(and Java 17: apt-get install openjdk-17-jre-headless)"
        )
    builder = (
        SparkSession.builder.master(master)
        .appName("tierwatch-rollup")
        .config("spark.ui.showConsoleProgress", "false")
    )
    if master.startswith("local"):
        # one machine: a few shuffle partitions, not a cluster's 200 (a --conf overrides)
        builder = builder.config("spark.sql.shuffle.partitions", "8")
    for key, value in settings:
        builder = builder.config(key, value)
    try:
        # the store's days are UTC days, whatever a setting says
        spark = builder.config("spark.sql.session.timeZone", "UTC").getOrCreate()
    except Exception as e:  # Java missing or the master unreachable: Spark says which
        fail(f"Spark did not start on {master}: {str(e).splitlines()[0]}")
    spark.sparkContext.setLogLevel("ERROR")  # its warnings are not the user's to act on
    return spark


COMMANDS = [export, rollup]
