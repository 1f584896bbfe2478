"""The store's task facts and rollups computed by Apache Spark over a lake (the layout of
ingest/lake.py), from the same SQL files DuckDB runs (docs/scale.md).

The SQL is written once, for DuckDB (ingest/tasks.sql, ingest/rollups/task_rollup.sql). Spark's text
is generated from it with sqlglot plus the small rewrite pass below, for what sqlglot does not
carry over faithfully:

- `list(x order by k)`: Spark's `collect_list` keeps no order, so the values are collected
  with their keys, sorted, and unwrapped; a list of no rows stays NULL, as DuckDB's is.
- `* exclude (c)` over a CTE: Spark has no star exclusion, so the star is expanded to the
  CTE's own column names.
- `list[i]`: DuckDB counts list places from 1, Spark's `list[i]` from 0, so a place is
  read with `element_at(list, i)`, which counts from 1 as DuckDB does.

Anything else the pass does not know is left to sqlglot; the equivalence test
(tests/test_spark_rollup.py) compares every row Spark computes with DuckDB's.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from tierwatch.ingest import derived, lake_checks
from tierwatch.ingest.lake import LakeError
from tierwatch.ingest.store import sql_file

if TYPE_CHECKING:  # pyspark is an optional extra: tierwatch[spark]
    from pyspark.sql import DataFrame, SparkSession


class SparkSqlError(ValueError):
    """A DuckDB statement the rewrite pass cannot carry to Spark faithfully."""


def spark_text(duckdb_sql: str, whole: frozenset[str] = frozenset()) -> str:
    """The Spark SQL text of one DuckDB statement. An `insert into T <query>` gives its
    query (the caller decides where the rows go).

    `whole`: views that hold every task the statement reads (ingest's `touched`, when
    Spark's views are already scoped to those tasks): a `task_id in (select task_id from
    V)` filter of such a view keeps every row, and is left out instead of costing Spark a
    semi-join of the whole lake."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    if isinstance(tree, exp.Insert):
        tree = tree.expression
    if whole:
        tree = tree.transform(lambda node: _kept_whole(node, whole))
    tree = tree.transform(_ordered_list)
    tree = tree.transform(_one_based_place)
    tree = _expand_star_exclusions(tree)
    return tree.sql(dialect="spark", pretty=True)


def _kept_whole(node: exp.Expression, whole: frozenset[str]) -> exp.Expression:
    """`x in (select task_id from V)`, V one of `whole`, as TRUE."""
    query = node.args.get("query") if isinstance(node, exp.In) else None
    select = query.this if isinstance(query, exp.Subquery) else query
    if not isinstance(select, exp.Select):
        return node
    source = select.args.get("from_") or select.args.get("from")
    table = source.this if source is not None else None
    if (
        isinstance(table, exp.Table)
        and table.name in whole
        and not table.db
        and not select.args.get("where")
        and not select.args.get("joins")
        and [c.sql() for c in select.expressions] == ["task_id"]
    ):
        return exp.true()
    return node


def _ordered_list(node: exp.Expression) -> exp.Expression:
    """list(x order by k, ...) [filter (where c)] as an order-keeping Spark expression."""
    if isinstance(node, exp.Filter) and _is_ordered_list(node.this):
        agg, where = node.this, node.expression
    elif _is_ordered_list(node) and not isinstance(node.parent, exp.Filter):
        agg, where = node, None
    else:
        return node
    order: exp.Order = agg.this
    keys = []
    for i, key in enumerate(order.expressions):
        if key.args.get("desc") or key.args.get("nulls_first"):
            raise SparkSqlError(
                f"{agg.sql('duckdb')}: only ascending keys with NULLs last carry over to Spark"
            )
        keys.append(f"'k{i}', {key.this.sql('spark')}")
    value = order.this.sql("spark")
    collected = f"collect_list(named_struct({', '.join(keys)}, 'v', {value}))"
    if where is not None:
        collected += f" filter (where {where.this.sql('spark')})"
    text = f"nullif(transform(array_sort({collected}), s -> s.v), array())"
    return sqlglot.parse_one(text, read="spark")


def _one_based_place(node: exp.Expression) -> exp.Expression:
    """list[i] (DuckDB: from 1) as element_at(list, i) (Spark: from 1 too)."""
    if isinstance(node, exp.Bracket) and len(node.expressions) == 1:
        return exp.Anonymous(this="element_at", expressions=[node.this, node.expressions[0]])
    return node


def _is_ordered_list(node: exp.Expression) -> bool:
    return isinstance(node, exp.ArrayAgg) and isinstance(node.this, exp.Order)


def _expand_star_exclusions(tree: exp.Expression) -> exp.Expression:
    """`select * exclude (c) from cte`: the star as the CTE's columns without c."""
    ctes = {cte.alias: cte.this for cte in tree.find_all(exp.CTE)}
    for star in list(tree.find_all(exp.Star)):
        excluded = star.args.get("except_") or star.args.get("except")
        if not excluded:
            continue
        select = star.find_ancestor(exp.Select)
        source = select.args.get("from_") or select.args.get("from")
        name = source.this.name if source is not None else None
        if name not in ctes:
            raise SparkSqlError(
                f"{select.sql('duckdb')[:80]}…: * exclude needs a CTE's named columns in Spark"
            )
        drop = {e.name for e in excluded}
        columns = [e.alias_or_name for e in ctes[name].expressions if e.alias_or_name not in drop]
        at = select.expressions.index(star)
        select.set(
            "expressions",
            select.expressions[:at]
            + [exp.column(c) for c in columns]
            + select.expressions[at + 1 :],
        )
    return tree


@dataclass
class LakeRead:
    """What reading a lake found: rows read, rejected (by a rule of the format, or because
    rows of one identity disagree) and exact duplicates counted once, per table, for the
    days the rollup reads anew; `rejects`: those rows with their reasons (a frame)."""

    rows: dict[str, int]
    rejected: dict[str, int]
    duplicates: dict[str, int]
    rejects: DataFrame
    days_checked: int | None = None  # days whose rows were checked (None: every day)


# a lake table: (folder, the format's fields, the columns of a row's identity)
_LAKE_TABLES = {
    "attempts": ("attempts", lake_checks.lake_attempt_fields, ("task_id", "role", "attempt")),
    "downstream_failures": (
        "downstream_failures",
        lake_checks.lake_downstream_fields,
        ("task_id", "detected_by", "ts"),
    ),
}


def read_lake(
    spark: SparkSession,
    lake: str | Path,
    ladder: tuple[str, ...],
    days: list[dt.date] | None = None,
) -> LakeRead:
    """Register the lake's rows as the views `attempts` and `downstream_failures` (and
    `ladder`), checked by the format's rules (ingest/lake_checks.py): a row a rule refuses,
    and every row of an identity whose rows disagree, is left out and counted with its
    reason; exact duplicates count once.

    `days`: the days to roll up anew (None: all of them). The views then hold what those
    days' rollups need: every task with a call on one of them, with all its calls and
    downstream failures whatever their day (a task that spans midnight is summed whole);
    the days found are in the view `days_in_scope(day)`.

    Raises LakeError when a table's columns cannot be read as the format's (the message
    names each column, its type and what to write)."""
    lake = str(lake).rstrip("/")
    _forget_kept()
    # the format's checks are wide CASE expressions; Spark's inference of constraints from
    # them grows without bound (a 1 GB driver ran out of memory on 19,000 rows), and it
    # has nothing to infer from them anyway: off while they are planned
    spark.conf.set("spark.sql.constraintPropagation.enabled", "false")
    spark.createDataFrame(
        [(rank, name) for rank, name in enumerate(ladder, start=1)], "rank int, name string"
    ).createOrReplaceTempView("ladder")
    problems: list[str] = []
    frames = {}
    for table, (folder, fields, _) in _LAKE_TABLES.items():
        frame = _lake_frame(spark, lake, folder)
        columns = {f.name: f.dataType.simpleString().lower() for f in frame.schema.fields}
        problems += lake_checks.column_problems(table, columns, fields(), f"{lake}/{folder}")
        frames[table] = (frame, set(columns))
    if problems:
        raise LakeError("; ".join(problems))
    checked_days = None
    if days is not None:  # only the rows the days in scope need are checked
        checked_days = _scope_from_raw(spark, frames, days)
        frames = {
            table: (frame.where(frame.day.isin(checked_days)), columns)
            for table, (frame, columns) in frames.items()
        }
    rows, rejected, duplicates, rejects = {}, {}, {}, []
    ladder_text = {"ladder_text": " < ".join(ladder)}
    for table, (_, fields, identity) in _LAKE_TABLES.items():
        frame, columns = frames[table]
        frame.createOrReplaceTempView(f"lake_{table}")
        checked = spark.sql(
            spark_text(lake_checks.checked_sql(f"lake_{table}", columns, fields())),
            args=ladder_text,
        )
        # the checked rows are read by every count and rollup that follows: kept once
        _kept(checked).createOrReplaceTempView(f"checked_{table}")
        good_columns = ", ".join(c for c in checked.columns if not c.startswith("problem_"))
        same = " and ".join(f"d.{k} <=> c.{k}" for k in identity)
        spark.sql(
            f"select distinct {good_columns} from checked_{table} where problem_reason is null"
        ).createOrReplaceTempView(f"distinct_{table}")
        # an identity whose rows disagree: none of them is kept (which is right is unknown)
        spark.sql(
            f"select {', '.join(identity)} from distinct_{table} "
            f"group by {', '.join(identity)} having count(*) > 1"
        ).createOrReplaceTempView(f"conflicts_{table}")
        good = spark.sql(
            f"select c.* from distinct_{table} as c left anti join conflicts_{table} as d on {same}"
        )
        _kept(good).createOrReplaceTempView(f"good_{table}")
        spark.sql(
            f"select c.* from checked_{table} as c left semi join conflicts_{table} as d "
            f"on {same} where c.problem_reason is null"
        ).createOrReplaceTempView(f"conflicting_{table}")
    if days is None:
        _all_days(spark)
    for table, (_, _fields, identity) in _LAKE_TABLES.items():
        in_days = "day in (select day from days_in_scope)"
        counts = spark.sql(
            f"select (select count(*) from checked_{table} where {in_days}) as n, "
            f"(select count(*) from checked_{table} where problem_reason is not null "
            f"and {in_days}) as bad, "
            f"(select count(*) from conflicting_{table} where {in_days}) as conflicting, "
            f"(select count(*) from good_{table} where {in_days}) as kept"
        ).first()
        rows[table] = counts.n
        rejected[table] = counts.bad + counts.conflicting
        duplicates[table] = counts.n - counts.bad - counts.conflicting - counts.kept
        identity_columns = (
            "cast(fleet as string) as fleet, role, cast(attempt as string) as attempt"
            if table == "attempts"
            else "cast(null as string) as fleet, cast(null as string) as role, "
            "cast(null as string) as attempt"
        )
        said = ", ".join(identity)
        rejects.append(
            spark.sql(
                f"select '{table}' as tbl, day, task_id, {identity_columns}, "
                "problem_field as field, problem_reason as reason "
                f"from checked_{table} where problem_reason is not null and {in_days} "
                f"union all select '{table}', day, task_id, {identity_columns}, "
                f"'{identity[-1]}', 'conflicts: the lake holds rows of the same {said} with "
                "different values, and none is kept; remove the wrong ones from the lake' "
                f"from conflicting_{table} where {in_days}"
            )
        )
    _scoped_views(spark)
    # what follows reads the kept (already computed) rows, not the checks' expressions
    spark.conf.set("spark.sql.constraintPropagation.enabled", "true")
    return LakeRead(
        rows,
        rejected,
        duplicates,
        rejects[0].unionByName(rejects[1]),
        None if checked_days is None else len(checked_days),
    )


_KEPT: list[DataFrame] = []


def _kept(frame: DataFrame) -> DataFrame:
    """`frame` computed now and kept (memory, else disk) for every query that reads it: the
    checked rows, the tasks and the calls are each read by many rollups, and a query over a
    kept frame is planned over its rows, not over every step that made them (a plan of
    every step, the checks included, ran a 1 GB driver out of memory)."""
    kept = frame.localCheckpoint(eager=True)
    _KEPT.append(kept)
    return kept


def _forget_kept() -> None:
    """Let go of what an earlier read of a lake kept."""
    while _KEPT:
        _KEPT.pop().unpersist()


def _lake_frame(spark: SparkSession, lake: str, table: str) -> DataFrame:
    """A lake table's rows with its partition columns (day as a date, fleet as text,
    whatever the folder names look like); an empty frame of the table's columns when the
    lake has no such folder (a lake of no downstream failures). `lake`: a folder, or a URL
    of any file system Spark reads (s3a://, abfss://, hdfs://)."""
    from pyspark.errors import AnalysisException
    from pyspark.sql import functions as F  # noqa: N812 (pyspark's own spelling)

    folder = f"{str(lake).rstrip('/')}/{table}"
    spark.conf.set("spark.sql.sources.partitionColumnTypeInference.enabled", "false")
    local = "://" not in str(lake)
    try:
        if local and not any(Path(folder).rglob("*.parquet")):
            raise AnalysisException(f"{folder}: no Parquet files")
        frame = spark.read.option("basePath", folder).parquet(folder)
    except AnalysisException:
        if table == "attempts":
            raise LakeError(
                f"{folder} holds no Parquet files: a lake's attempts are "
                "LAKE/attempts/day=YYYY-MM-DD/fleet=NAME/*.parquet (tierwatch export "
                "writes them; docs/scale.md)"
            ) from None
        return spark.sql(
            "select cast(null as string) as task_id, cast(null as timestamp) as ts, "
            "cast(null as string) as detected_by, cast(null as date) as day where false"
        )
    if "day" not in frame.columns:
        raise LakeError(
            f"{folder} is not partitioned by day: its files must sit in day=YYYY-MM-DD "
            "folders (tierwatch export writes them; docs/scale.md)"
        )
    return frame.withColumn("day", F.to_date(F.col("day")))


def lake_files(spark: SparkSession, lake: str | Path) -> dict[str, DataFrame]:
    """Each lake table's rows as frames that can also list their files (the `_metadata`
    column: path, size, modification time), by table; a table the lake lacks is left out."""
    out = {}
    for table, (folder, _, _) in _LAKE_TABLES.items():
        frame = _lake_frame(spark, str(lake), folder)
        if frame.inputFiles():
            out[table] = frame
    return out


def _all_days(spark: SparkSession) -> None:
    """The view days_in_scope of a full run: every day with a kept call or failure."""
    spark.sql(
        "select distinct day from good_attempts union select distinct day "
        "from good_downstream_failures"
    ).createOrReplaceTempView("days_in_scope")


def _scope_from_raw(
    spark: SparkSession, frames: dict[str, tuple[DataFrame, set[str]]], days: list[dt.date]
) -> list[dt.date]:
    """The view days_in_scope (the days asked, and every day a task with a call or a
    downstream failure on one of them has a call on), and the days whose rows the checks
    must read for it: those days and every day a task with a call on one of them has a call
    or a downstream failure on (the scoped views hold all of such a task's rows, and its
    duplicates and conflicts are among them). Found from the task_id and day columns alone,
    before any check, so a rejected row can only widen the scope, never narrow it."""
    attempts = frames["attempts"][0].select("task_id", "day")
    failures = frames["downstream_failures"][0].select("task_id", "day")
    attempts.createOrReplaceTempView("raw_attempt_days")
    failures.createOrReplaceTempView("raw_failure_days")

    def small(name: str, values: list[dt.date]) -> None:
        spark.createDataFrame([(d,) for d in values], "day date").createOrReplaceTempView(name)

    def days_of(sql: str) -> list[dt.date]:
        return sorted(r[0] for r in spark.sql(sql).collect())

    small("days_asked", days)
    scope = days_of(
        "select day from days_asked union select distinct day from raw_attempt_days "
        "where task_id in (select task_id from raw_attempt_days where day in "
        "(select day from days_asked) union select task_id from raw_failure_days "
        "where day in (select day from days_asked))"
    )
    small("days_in_scope", scope)
    return days_of(
        "with tasks as (select distinct task_id from raw_attempt_days "
        "where day in (select day from days_in_scope)) "
        "select day from days_in_scope "
        "union select day from raw_attempt_days where task_id in (select task_id from tasks) "
        "union select day from raw_failure_days where task_id in (select task_id from tasks)"
    )


def _scoped_views(spark: SparkSession) -> None:
    """`attempts` and `downstream_failures`: every call and downstream failure of the tasks
    with a call on a day in scope."""
    spark.sql(
        "select distinct task_id from good_attempts where day in (select day from days_in_scope)"
    ).createOrReplaceTempView("tasks_in_days")
    for table in _LAKE_TABLES:
        _kept(
            spark.sql(
                f"select * from good_{table} where task_id in (select task_id from tasks_in_days)"
            )
        ).createOrReplaceTempView(table)


def task_tables(
    spark: SparkSession, lake: str | Path, ladder: tuple[str, ...]
) -> tuple[DataFrame, DataFrame]:
    """The `tasks` and `task_rollup` rows of every task in the lake, as Spark computes them
    from ingest/tasks.sql and ingest/rollups/task_rollup.sql; `ladder`: tier names,
    cheapest first (the store's ladder)."""
    read_lake(spark, lake, ladder)
    return _task_frames(spark)


def _task_frames(spark: SparkSession) -> tuple[DataFrame, DataFrame]:
    """The tasks of the views read_lake registered, and their task rollup for the keys of
    the days in scope; each also a view of its name (`tasks` and `tasks_in_scope`)."""
    # ingest/tasks.sql reads the touched tasks' rows; here `attempts` and
    # `downstream_failures` hold only the tasks in scope (_scoped_views), all of them touched
    tasks = _kept(spark.sql(spark_text(sql_file("tasks.sql"), whole=frozenset({"touched"}))))
    tasks.createOrReplaceTempView("tasks")
    tasks.createOrReplaceTempView("tasks_in_scope")
    spark.sql(
        "select distinct day, task_type, fleet from tasks "
        "where day in (select day from days_in_scope)"
    ).createOrReplaceTempView("rollup_keys")
    return tasks, spark.sql(spark_text(sql_file("rollups/task_rollup.sql")))


def rollup_tables(
    spark: SparkSession, lake: str | Path, ladder: tuple[str, ...]
) -> dict[str, DataFrame]:
    """Every rollup of the store's registry (ingest/derived.py) over the whole lake, by
    name (lake_rollup, all days)."""
    return lake_rollup(spark, lake, ladder)[1]


def lake_rollup(
    spark: SparkSession,
    lake: str | Path,
    ladder: tuple[str, ...],
    days: list[dt.date] | None = None,
) -> tuple[LakeRead, dict[str, DataFrame]]:
    """What reading the lake found (read_lake) and every rollup of the store's registry
    (ingest/derived.py) as Spark computes it with the store's own SQL files, by name, for
    the keys of the days in scope (all days when `days` is None). Each rollup is also a
    temporary view of its name, so that a rollup built from another reads it."""
    read = read_lake(spark, lake, ladder, days)
    _task_frames(spark)
    spark.table("attempts").createOrReplaceTempView("calls_in_scope")
    _kept(
        spark.sql(
            f"select * from ({spark_text(derived.ALL_KEYS)}) as k "
            "where k.day in (select day from days_in_scope)"
        )
    ).createOrReplaceTempView("rollup_keys")
    out: dict[str, DataFrame] = {}
    for r in derived.ROLLUPS:
        frame = spark.sql(spark_text(sql_file(r.sql)))
        frame.createOrReplaceTempView(r.name)
        out[r.name] = frame
    return read, out
