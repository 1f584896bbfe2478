"""Routing analytics over the tierwatch store: SQL files named for their result, run with
bound parameters, and the reports built on them (see docs/metrics.md for the semantics).

The SQL lives in three folders, by what a file makes:
- `queries/<name>.sql`: a result (rows a report, a page or the command line reads);
- `queries/tables/<name>.sql`: a table that depends on the config's prices (the priced
  usage and spend several results read), built per connection by `queries.pricing` from
  the stored usage;
- `queries/macros/<name>.sql`: a macro the results call (`in_selection`).
A name is unique across the three; `sql_text(name)` finds it in whichever holds it. The
price-independent rollups (task outcomes per day, chain shapes, escalation steps, ...) are
not built here: the store keeps them, maintained at every load (ingest/derived.py), and the
results read them as tables.

`run(con, name, params)` reads a result's file and executes it with the parameters the
file names (`$since`, `$task_types`, ...); values never enter the SQL text.
"""

from __future__ import annotations

import re
from pathlib import Path

import duckdb

from tierwatch.queries.filters import Filters, QueryError

QUERY_DIR = Path(__file__).parent
SQL_DIRS = (QUERY_DIR, QUERY_DIR / "tables", QUERY_DIR / "macros")

__all__ = [
    "Filters",
    "QueryError",
    "QUERY_DIR",
    "query_names",
    "sql_text",
    "run",
    "run_df",
    "data_key",
    "create_macros",
]


def query_names() -> list[str]:
    """Every SQL file's name (without `.sql`) in the three folders, sorted."""
    return sorted(p.stem for folder in SQL_DIRS for p in folder.glob("*.sql"))


def sql_text(name: str) -> str:
    """The text of the SQL file `name` (a result, a table or a macro); QueryError when
    there is no such file."""
    if re.fullmatch(r"[a-z0-9_]+", name):
        for folder in SQL_DIRS:
            path = folder / f"{name}.sql"
            if path.is_file():
                return path.read_text(encoding="utf-8")
    raise QueryError(f"no query named {name!r}; the queries are {', '.join(query_names())}")


def _execute(
    con: duckdb.DuckDBPyConnection, name: str, params: dict, prefix: str = ""
) -> duckdb.DuckDBPyConnection:
    sql = sql_text(name)
    wanted = set(re.findall(r"\$([a-z_][a-z0-9_]*)", sql))  # a file takes only what it names
    missing = wanted - set(params)
    if missing:
        raise QueryError(f"query {name!r} needs parameters {', '.join(sorted(missing))}")
    create_macros(con)
    return con.execute(prefix + sql, {k: v for k, v in params.items() if k in wanted})


def create_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Create the macros of queries/macros/ on `con` (each `if not exists`: cheap again)."""
    for path in sorted((QUERY_DIR / "macros").glob("*.sql")):
        con.execute(path.read_text(encoding="utf-8"))


def materialize(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> None:
    """Run `queries/<name>.sql` with bound `params` into temp table `name`, replacing it:
    for a result that several queries of one report read."""
    _execute(con, name, params, prefix=f"create or replace temp table {name} as\n")


def run(con: duckdb.DuckDBPyConnection, name: str, params: dict) -> list[dict]:
    """Rows of `queries/<name>.sql` run with bound `params`, as dicts."""
    cur = _execute(con, name, params)
    columns = [d[0] for d in cur.description]
    return [dict(zip(columns, row, strict=True)) for row in cur.fetchall()]


def run_df(con: duckdb.DuckDBPyConnection, name: str, params: dict):
    """`run` as a pandas DataFrame (for the dashboard's charts)."""
    return _execute(con, name, params).df()


def data_key(con: duckdb.DuckDBPyConnection) -> str:
    """What the store's data looks like: its data version and the calls its rollups count."""
    version = con.execute("select value from meta where key = 'data_version'").fetchone()
    count = con.execute("select coalesce(sum(attempts), 0) from attempt_usage").fetchone()[0]
    return repr((version[0] if version else None, count))
