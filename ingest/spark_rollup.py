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

from pathlib import Path
from typing import TYPE_CHECKING

import sqlglot
from sqlglot import exp

from tierwatch.ingest import derived
from tierwatch.ingest.store import sql_file

if TYPE_CHECKING:  # pyspark is an optional extra: tierwatch[spark]
    from pyspark.sql import DataFrame, SparkSession


class SparkSqlError(ValueError):
    """A DuckDB statement the rewrite pass cannot carry to Spark faithfully."""


def spark_text(duckdb_sql: str) -> str:
    """The Spark SQL text of one DuckDB statement. An `insert into T <query>` gives its
    query (the caller decides where the rows go)."""
    tree = sqlglot.parse_one(duckdb_sql, read="duckdb")
    if isinstance(tree, exp.Insert):
        tree = tree.expression
    tree = tree.transform(_ordered_list)
    tree = tree.transform(_one_based_place)
    tree = _expand_star_exclusions(tree)
    return tree.sql(dialect="spark", pretty=True)


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


def task_tables(
    spark: SparkSession, lake: str | Path, ladder: tuple[str, ...]
) -> tuple[DataFrame, DataFrame]:
    """The `tasks` and `task_rollup` rows of every task in the lake, as Spark computes them
    from ingest/tasks.sql and ingest/rollups/task_rollup.sql; `ladder`: tier names, cheapest first
    (the store's ladder)."""
    lake = Path(lake)
    spark.read.parquet(str(lake / "attempts")).createOrReplaceTempView("attempts")
    failures = lake / "downstream_failures"
    if failures.is_dir():
        spark.read.parquet(str(failures)).createOrReplaceTempView("downstream_failures")
    else:  # a lake of no downstream failures
        spark.sql(
            "select cast(null as string) as task_id, cast(null as timestamp) as ts where false"
        ).createOrReplaceTempView("downstream_failures")
    spark.createDataFrame(
        [(rank, name) for rank, name in enumerate(ladder, start=1)], "rank int, name string"
    ).createOrReplaceTempView("ladder")
    spark.sql("select distinct task_id from attempts").createOrReplaceTempView("touched")
    tasks = spark.sql(spark_text(sql_file("tasks.sql")))
    tasks.createOrReplaceTempView("tasks")
    tasks.createOrReplaceTempView("tasks_in_scope")  # every task: the rollup's full build
    spark.sql("select distinct day, task_type, fleet from tasks").createOrReplaceTempView(
        "rollup_keys"
    )
    rollup = spark.sql(spark_text(sql_file("rollups/task_rollup.sql")))
    return tasks, rollup


def rollup_tables(
    spark: SparkSession, lake: str | Path, ladder: tuple[str, ...]
) -> dict[str, DataFrame]:
    """Every rollup of the store's registry (ingest/derived.py), as Spark computes it from
    the lake with the store's own SQL files, by name; the tasks and the task rollup first
    (task_tables). Each is also a temporary view of that name, so that a rollup built from
    another reads it."""
    tasks, _ = task_tables(spark, lake, ladder)
    spark.table("attempts").createOrReplaceTempView("calls_in_scope")
    spark.sql(spark_text(derived.ALL_KEYS)).createOrReplaceTempView("rollup_keys")
    out: dict[str, DataFrame] = {}
    for r in derived.ROLLUPS:
        frame = spark.sql(spark_text(sql_file(r.sql)))
        frame.createOrReplaceTempView(r.name)
        out[r.name] = frame
    return out
