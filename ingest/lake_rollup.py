"""`tierwatch rollup`: a store whose rollups an engine computed over a lake, and kept current
by partition (docs/scale.md).

The lake (ingest/lake.py's layout: Parquet partitioned by day, and by fleet) holds the
records; the engine (Apache Spark, ingest/spark_rollup.py) checks them by the format's
rules and computes every rollup of the registry (ingest/derived.py) with the store's own
SQL files; this module loads those rows, small (per day, task type, fleet and a few
columns), into a store that holds no records. The reports and pages read only rollups, so
they serve such a store as they serve one `tierwatch ingest` filled.

Incremental by partition: each day folder's files are fingerprinted (their paths, sizes and
modification times, as the engine lists them); a run rolls up anew only the days whose
fingerprint changed, with every day a task that has a call on one of them spans, and
replaces those days' rows in one transaction. A day gone from the lake, a changed folder of
downstream failures, or --full rolls up every day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import TYPE_CHECKING

import duckdb

from tierwatch.ingest import derived, store

if TYPE_CHECKING:
    from pyspark.sql import SparkSession

    from tierwatch.ingest.spark_rollup import LakeRead


class LakeRollupError(store.StoreError):
    """The store cannot take a lake's rollups as asked; the message says what to do."""


@dataclasses.dataclass
class LakeRollup:
    """What one `tierwatch rollup` run did."""

    lake: str
    days: list[dt.date]  # rolled up anew (each day's rows replaced)
    unchanged: int  # days the store had rolled up whose files had not changed
    full: str | None  # why every day was rolled up, when it was
    read: LakeRead | None  # what the engine read and refused (None: nothing to do)
    rows: dict[str, int]  # rollup rows loaded, by table


def fingerprints(spark: SparkSession, lake: str) -> dict[tuple[str, dt.date], str]:
    """(table, day) -> a fingerprint of that day folder's files: their paths, sizes and
    modification times, as Spark lists them (any file system Spark reads: local, s3a,
    abfss...)."""
    from tierwatch.ingest.spark_rollup import lake_files

    out = {}
    for table, frame in lake_files(spark, lake).items():
        rows = (
            frame.selectExpr(
                "day",
                "concat(_metadata.file_path, ':', _metadata.file_size, ':', "
                "cast(unix_micros(_metadata.file_modification_time) as string)) as f",
            )
            .groupBy("day")
            .agg({"f": "collect_list"})
            .collect()
        )
        for day, files in rows:
            out[(table, day)] = "|".join(sorted(files))
    return out


def check_can_serve(con: duckdb.DuckDBPyConnection, lake: str, db: str) -> None:
    """A store takes a lake's rollups only when it holds no records of its own, and rolls
    up one lake."""
    held = con.execute("select count(*) from attempts").fetchone()[0]
    if held:
        raise LakeRollupError(
            f"the store {db} holds {held:,} attempts that tierwatch ingest loaded; a lake's "
            "rollups go into a store of their own. Give --db a new file, e.g. "
            "--db lake.duckdb"
        )
    other = store.served_from_lake(con)
    if other is not None and other != lake:
        raise LakeRollupError(
            f"the store {db} serves the rollups of the lake {other}; one store serves one "
            f"lake. Give --db a new file for {lake}"
        )


def days_to_roll(
    con: duckdb.DuckDBPyConnection,
    lake: str,
    prints: dict[tuple[str, dt.date], str],
    full: bool,
) -> tuple[list[dt.date] | None, str | None]:
    """(the days whose files changed, or None for all; why all, when all)."""
    before = {
        (t, d): f
        for t, d, f in con.execute(
            "select tbl, day, fingerprint from lake_partitions where lake = $lake",
            {"lake": lake},
        ).fetchall()
    }
    if full:
        return None, "--full"
    if not before:
        return None, "the store has rolled up nothing of this lake yet"
    if "" in before.values():  # store.migrate: a new schema's rollups need every day
        return None, "the store's schema was upgraded since the last rollup"
    gone = sorted({d for (t, d) in before if (t, d) not in prints})
    if gone:
        return None, f"{len(gone)} days are gone from the lake (first {gone[0]})"
    changed_failures = [
        d
        for (t, d), f in prints.items()
        if t == "downstream_failures" and (t, d) in before and before[(t, d)] != f
    ]
    if changed_failures:
        return None, f"the downstream failures of {changed_failures[0]} were rewritten"
    return sorted({d for (t, d), f in prints.items() if before.get((t, d)) != f}), None


def load_rollups(
    con: duckdb.DuckDBPyConnection,
    lake: str,
    frames: dict,
    scope_days: list[dt.date] | None,
    prints: dict[tuple[str, dt.date], str],
) -> dict[str, int]:
    """Replace the store's rollup rows of `scope_days` (None: all) by the engine's frames,
    recompute the rollups kept whole, and record the lake's fingerprints: one transaction."""
    keyed = [r for r in derived.ROLLUPS if r.kept == "key"]
    arrows = {r.name: frames[r.name].toArrow() for r in keyed}  # small: computed first
    rows = {}
    con.execute("begin transaction")
    try:
        con.execute("create or replace temp table scope_days (day date)")
        if scope_days is not None:
            con.executemany("insert into scope_days values (?)", [(d,) for d in scope_days])
        where = "" if scope_days is None else " where day in (select day from scope_days)"
        for r in keyed:
            con.execute(f"delete from {r.name}{where}")
            con.register("incoming", arrows[r.name])
            con.execute(f"insert into {r.name} by name select * from incoming")
            con.unregister("incoming")
            rows[r.name] = arrows[r.name].num_rows
        for r in derived.ROLLUPS:
            if r.kept == "whole":
                con.execute(f"delete from {r.name}")
                con.execute(f"insert into {r.name} {store.sql_file(r.sql)}")
        con.execute("delete from lake_partitions where lake = $lake", {"lake": lake})
        con.executemany(
            "insert into lake_partitions (lake, tbl, day, fingerprint) values (?, ?, ?, ?)",
            [(lake, t, d, f) for (t, d), f in sorted(prints.items())],
        )
        store.bump_data_version(con)
        con.execute("commit")
    except BaseException:
        con.execute("rollback")
        raise
    return rows


def write_rejects(
    spark: SparkSession, read: LakeRead, rejects_to: str, days: list[dt.date] | None
) -> None:
    """The rows the run refused, with their reasons, as Parquet partitioned by day at
    `rejects_to`: the folders of `days` (None: every day) replaced, the other days' rejects
    (found by earlier runs, their rows unchanged since) kept. Any file system Spark writes."""
    jvm = spark.sparkContext._jvm
    hadoop = spark.sparkContext._jsc.hadoopConfiguration()
    folder = jvm.org.apache.hadoop.fs.Path(rejects_to)
    fs = folder.getFileSystem(hadoop)
    if days is None:
        fs.delete(folder, True)
    else:
        for day in days:
            fs.delete(jvm.org.apache.hadoop.fs.Path(f"{rejects_to.rstrip('/')}/day={day}"), True)
    if sum(read.rejected.values()):
        read.rejects.write.mode("append").partitionBy("day").parquet(rejects_to)


def roll_up(
    con: duckdb.DuckDBPyConnection,
    spark: SparkSession,
    lake: str,
    db: str,
    full: bool = False,
    rejects_to: str | None = None,
) -> LakeRollup:
    """Roll the lake at `lake` up into the open store `con` (its ladder already set): the
    days whose files changed, or all (`full`). Rows a rule refuses are written, with their
    reasons, as Parquet to `rejects_to` (write_rejects), after the store took the rollups."""
    from tierwatch.ingest.spark_rollup import lake_rollup

    check_can_serve(con, lake, db)
    ladder = store.stored_ladder(con)
    prints = fingerprints(spark, lake)
    days, why_all = days_to_roll(con, lake, prints, full)
    read, rows, scope = None, {}, []
    if days != []:
        read, frames = lake_rollup(spark, lake, ladder, days)
        scope = sorted(r[0] for r in spark.table("days_in_scope").collect())
        rows = load_rollups(con, lake, frames, None if days is None else scope, prints)
        if rejects_to is not None:
            write_rejects(spark, read, rejects_to, None if days is None else scope)
    unchanged = len({d for (_, d) in prints} - set(scope))
    return LakeRollup(lake, scope, unchanged, why_all, read, rows)
