"""The tierwatch store: one DuckDB file, its schema migrations and its connections.

Every write goes through `open_store(..., read_only=False)`; readers open read-only and
close again, so a dashboard never holds the file while idle and `tierwatch ingest` can
write between its interactions.
"""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from collections.abc import Iterator
from importlib import resources
from pathlib import Path

import duckdb

from tierwatch.ingest import derived, environment, identity
from tierwatch.ingest.config import Config

# how long a command waits for a file another process holds for a moment (a collect batch)
CLI_LOCK_WAIT = 10.0


class StoreError(RuntimeError):
    """The store cannot be used as asked; the message says what to do."""


class StoreLocked(StoreError):
    """Another process holds the database file."""


class StoreMissing(StoreError):
    """A read was asked of a database file that does not exist yet."""


_FULL = (errno.ENOSPC, errno.EFBIG, errno.EDQUOT)


def is_store_failure(e: BaseException) -> bool:
    """Whether `e` comes from the disk or the database file rather than from a query."""
    if isinstance(e, OSError | duckdb.IOException):
        return True
    text = str(e).lower()
    return isinstance(e, duckdb.Error) and any(w in text for w in _FAILURE_WORDS)


_DAMAGED_WORDS = ("corrupt", "checksum")
_FULL_WORDS = ("no space left", "file too large", "disk quota")
_FAILURE_WORDS = _DAMAGED_WORDS + _FULL_WORDS


def explain(e: BaseException) -> str:
    """One line for an error from the disk or the database file, saying what to do."""
    text = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
    lowered = text.lower()
    if (isinstance(e, OSError) and e.errno in _FULL) or any(w in lowered for w in _FULL_WORDS):
        return (
            f"the disk is full ({text}); what was being written was not committed and the "
            f"store holds what it held before. Free some space and run the command again"
        )
    if isinstance(e, duckdb.Error) and any(w in lowered for w in _DAMAGED_WORDS):
        return (
            f"the database file is damaged ({text}). Restore it from a copy, or rebuild it: "
            f"load the same logs into a new file with tierwatch ingest PATH --db NEW.duckdb"
        )
    if isinstance(e, OSError):
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror or text}; check that the path exists and can be read"
    return (
        f"DuckDB failed: {text}. If the database file is fine, this is a bug in tierwatch: "
        f"please report it with this message"
    )


def db_path(path: str | os.PathLike | None = None) -> Path:
    """The database file: `path`, else $TIERWATCH_DB, else ./tierwatch.duckdb."""
    return Path(path) if path else environment.value("db")


def _migrations() -> list[tuple[int, str]]:
    folder = resources.files("tierwatch.ingest") / "migrations"
    found = []
    for entry in folder.iterdir():
        m = re.match(r"(\d+)_.*\.sql$", entry.name)
        if m:
            found.append((int(m.group(1)), entry.read_text(encoding="utf-8")))
    return sorted(found)


SCHEMA_VERSION = max(v for v, _ in _migrations())
# what a migration leaves for the derived tables (ingest/derived.py) to be built again from
# what the store holds: "rollups" after one that adds rollups (007: the task rollup; 009: the
# rest), "tasks" after one whose rule changed every task's facts (008)
REBUILT_AFTER = {7: "rollups", 8: "tasks", 9: "rollups", 10: "rollups"}


def _holder(message: str) -> str:
    """Who holds the lock, from DuckDB's message ("... held in /usr/bin/python (PID 12)")."""
    m = re.search(r"PID (\d+)", message)
    if not m:
        return "another process"
    pid = m.group(1)
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [w.decode(errors="replace") for w in cmdline if w]
    except OSError:
        return f"process {pid}"
    names = [Path(w).name for w in words[:4]]
    if "tierwatch" in " ".join(words):
        sub = next((w for w in words if w in {"ingest", "dashboard", "demo", "report"}), "")
        return f"process {pid} (tierwatch {sub})".replace(" )", ")")
    if any("streamlit" in w for w in words):
        return f"process {pid} (the tierwatch dashboard)"
    return f"process {pid} ({' '.join(names)})"


def connect(
    path: str | os.PathLike | None = None, *, read_only: bool, wait: float = 0.0
) -> duckdb.DuckDBPyConnection:
    """A new connection to the store, with UTC as its time zone.

    While another process holds the file, tries again for up to `wait` seconds (a running
    `tierwatch collect` holds it for a moment per batch). Raises StoreMissing for a read of a
    file that does not exist and StoreLocked when the file stays held, each with a message
    that says what to do.
    """
    deadline = time.monotonic() + wait
    pause = 0.02
    while True:
        try:
            return _connect(path, read_only=read_only)
        except StoreLocked:
            if time.monotonic() + pause > deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)


def _connect(path: str | os.PathLike | None, *, read_only: bool) -> duckdb.DuckDBPyConnection:
    p = db_path(path)
    if read_only and not p.exists():
        raise StoreMissing(
            f"no tierwatch database at {p}; load logs first: tierwatch ingest PATH --db {p}"
        )
    _check_kind(p)
    try:
        # never fetch or load an extension: a file that is not DuckDB's must not reach the
        # internet (DuckDB would download its SQLite reader for a SQLite file)
        con = duckdb.connect(str(p), read_only=read_only, config=CONNECT_CONFIG)
    except duckdb.IOException as e:
        text = str(e)
        if "lock" in text.lower():
            who = _holder(text)
            what = "read" if read_only else "write to"
            raise StoreLocked(
                f"cannot {what} {p}: {who} is writing to it. Wait for it to finish, "
                f"or stop it, then try again."
                if read_only
                else f"cannot {what} {p}: it is held by {who}. Wait for it to finish or "
                f"stop it, then run this again (a running dashboard lets go of the file "
                f"between interactions)."
            ) from None
        raise StoreError(f"cannot open {p}: {explain(e)}") from None
    except duckdb.Error as e:
        raise StoreError(f"cannot open {p}: {explain(e)}") from None
    return _configured(con)


def _configured(con: duckdb.DuckDBPyConnection) -> duckdb.DuckDBPyConnection:
    con.execute("set TimeZone = 'UTC'")
    # DuckDB's own bar would draw on stdout for long statements and break --json output
    con.execute("set enable_progress_bar = false")
    return con


CONNECT_CONFIG = {"autoload_known_extensions": False, "autoinstall_known_extensions": False}
_DUCKDB_MAGIC = b"DUCK"  # bytes 8-11 of every DuckDB database file
_OTHER_FILES = {b"SQLite format 3\x00": "an SQLite database", b"PAR1": "a Parquet file"}


def _check_kind(p: Path) -> None:
    """StoreError unless `p` is absent, empty or a DuckDB database file."""
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except FileNotFoundError:
        return
    except IsADirectoryError:
        raise StoreError(f"{p} is a folder; --db names a database file") from None
    except OSError as e:
        raise StoreError(f"cannot open {p}: {explain(e)}") from None
    if not head or head[8:12] == _DUCKDB_MAGIC:
        return
    what = next((name for magic, name in _OTHER_FILES.items() if head.startswith(magic)), None)
    raise StoreError(
        f"{p} is not a DuckDB database ({what or 'its first bytes are not DuckDB’s'}); "
        f"point --db at a tierwatch database, or at a new file name to create one"
    )


def connect_memory() -> duckdb.DuckDBPyConnection:
    """A scratch in-memory connection with the store's settings (UTC, no extensions)."""
    return _configured(duckdb.connect(config=CONNECT_CONFIG))


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    exists = con.execute(
        "select count(*) from information_schema.tables where table_name = 'schema_version'"
    ).fetchall()[0][0]
    if not exists:
        return 0
    return con.execute("select coalesce(max(version), 0) from schema_version").fetchall()[0][0]


def migrate(con: duckdb.DuckDBPyConnection, path: str | os.PathLike = "the database") -> int:
    """Apply the migrations the store lacks, all in one transaction, then rebuild what the
    last of them needs rebuilt (REBUILT_AFTER: every task if any of them changed the tasks'
    rule, else every rollup), once, by today's SQL; the new version."""
    current = schema_version(con)
    if current == 0:
        _check_empty(con, path)
    con.execute(
        "create table if not exists schema_version (version integer not null, "
        "applied_at timestamp not null default current_timestamp)"
    )
    identity.register(con)  # the record hash's macros, which migration 005 uses
    pending = [(v, sql) for v, sql in _migrations() if v > current]
    if pending:
        rebuilt = {REBUILT_AFTER[v] for v, _ in pending if v in REBUILT_AFTER}
        con.execute("begin transaction")
        try:
            for version, sql in pending:
                con.execute(sql)
                con.execute("insert into schema_version (version) values (?)", [version])
            if rebuilt and current > 0 and served_from_lake(con) is not None:
                # its records are in the lake: every day's fingerprint is forgotten (the
                # lake it serves is kept), so the next `tierwatch rollup` rebuilds every day
                con.execute("update lake_partitions set fingerprint = ''")
            elif rebuilt and current > 0:
                refresh_derived(con, everything="tasks" if "tasks" in rebuilt else "rollups")
            con.execute("commit")
        except Exception:
            con.execute("rollback")
            raise
        current = pending[-1][0]
    if current > 0:
        clear_staging(con)  # what a load that died left behind: no query reads it
    return current


def served_from_lake(con: duckdb.DuckDBPyConnection) -> str | None:
    """The lake a store's rollups came from (`tierwatch rollup`), if they came from one:
    such a store holds no records, so nothing here can sum its rollups again."""
    has_table = con.execute(
        "select count(*) from duckdb_tables() where database_name = current_database() "
        "and table_name = 'lake_partitions'"
    ).fetchone()[0]
    if not has_table:
        return None
    return con.execute("select any_value(lake) from lake_partitions").fetchone()[0]


def check_takes_records(con: duckdb.DuckDBPyConnection) -> None:
    """A load may write records into this store: it is not one a lake's rollups fill."""
    lake = served_from_lake(con)
    if lake is not None:
        path = con.execute(
            "select path from duckdb_databases() where database_name = current_database()"
        ).fetchone()[0]
        raise StoreError(
            f"the store {path} serves the rollups of the lake {lake} (tierwatch rollup) and "
            "holds no records, so a load would leave its rollups wrong. Add the records to "
            f"the lake and run: tierwatch rollup --lake {lake} --db {path}; or load them "
            "into another --db"
        )


def clear_staging(con: duckdb.DuckDBPyConnection) -> None:
    """Empty the staging tables a load writes its blocks to (migration 002)."""
    for table in ("staging_attempts", "staging_downstream_failures", "staging_rejects"):
        con.execute(f"delete from {table}")


def _check_empty(con: duckdb.DuckDBPyConnection, path: str | os.PathLike) -> None:
    """StoreError when a DuckDB file that is not a tierwatch store already holds tables."""
    tables = [
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables "
            "where table_catalog = current_database() and table_name <> 'schema_version' "
            "order by table_name"
        ).fetchall()
    ]
    if tables:
        shown = ", ".join(tables[:5]) + (", ..." if len(tables) > 5 else "")
        raise StoreError(
            f"{path} belongs to something else: it holds tables ({shown}) and no tierwatch "
            f"schema, so tierwatch will not add its tables to it. Point --db at a new file, "
            f"e.g. --db tierwatch.duckdb"
        )


def _check_version(p: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{p} has schema version {version}, written by a newer tierwatch; this one knows "
            f"versions up to {SCHEMA_VERSION} and will neither read nor write it. Upgrade: "
            f"pip install -U tierwatch"
        )


@contextlib.contextmanager
def open_store(
    path: str | os.PathLike | None = None, *, read_only: bool = True, wait: float = 0.0
) -> Iterator[duckdb.DuckDBPyConnection]:
    """A connection that is closed on leaving; a writer creates and migrates the file.
    `wait`: seconds to keep trying while another process holds the file."""
    p = db_path(path)
    if not read_only and p.parent != Path("") and not p.parent.exists():
        raise StoreError(f"cannot create {p}: folder {p.parent} does not exist")
    con = connect(p, read_only=read_only, wait=wait)
    try:
        version = schema_version(con)
        _check_version(p, version)
        if read_only:
            if version == 0:
                raise StoreMissing(
                    f"{p} is not a tierwatch database (no schema_version table); "
                    f"point --db at one, or load logs into a new file with tierwatch ingest"
                )
            if version < SCHEMA_VERSION:
                raise StoreError(
                    f"{p} has schema version {version}, this tierwatch needs {SCHEMA_VERSION}; "
                    f"run tierwatch ingest once (with no files: tierwatch ingest --db {p}) "
                    f"to migrate it"
                )
        else:
            migrate(con, p)
        yield con
    finally:
        con.close()


def ensure_ladder(con: duckdb.DuckDBPyConnection, config: Config) -> None:
    """Record the config's ladder in a new store, or check it equals the stored one.

    Escalations and skip-tier counts are stored per task, so a store keeps the ladder it
    was built with; prices may change freely. A store that holds nothing named by tier yet
    (every record so far rejected, e.g. loaded without the config that names the fleet's
    models) takes the new ladder.
    """
    stored = stored_ladder(con)
    if stored == config.ladder:
        return
    if not stored or _nothing_on_the_ladder(con):
        # a new store, or only rejects so far (a first try without the right config)
        con.execute("delete from ladder")
        con.executemany(
            "insert into ladder values (?, ?)", [(t.rank, t.name) for t in config.tiers]
        )
        return
    raise StoreError(
        f"this database was built with the ladder {' < '.join(stored)}, but the config "
        f"({config.source}) says {' < '.join(config.ladder)}. Use a config with the same "
        f"tiers in the same order, or a new --db for the new ladder."
    )


def _nothing_on_the_ladder(con: duckdb.DuckDBPyConnection) -> bool:
    """The store holds no attempt, no task and no flag, which are what name its tiers."""
    return not con.execute(
        "select exists (from attempts) or exists (from tasks) or exists (from flags)"
    ).fetchone()[0]


def stored_ladder(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The store's ladder, cheapest first (empty before the first ingest)."""
    return tuple(r[0] for r in con.execute("select name from ladder order by rank").fetchall())


def bump_data_version(con: duckdb.DuckDBPyConnection) -> None:
    """Mark that what the pages show has changed (called inside the writing transaction)."""
    con.execute(
        "update meta set value = cast(cast(value as bigint) + 1 as varchar) "
        "where key = 'data_version'"
    )


def data_version(con: duckdb.DuckDBPyConnection) -> int:
    return int(con.execute("select value from meta where key = 'data_version'").fetchall()[0][0])


REFRESH_BATCH_TASKS = 500_000


def sql_file(name: str) -> str:
    """The text of a statement file of ingest/ (tasks.sql, rollups/*.sql, lake_*.sql)."""
    return (resources.files("tierwatch.ingest") / name).read_text(encoding="utf-8")


def refresh_derived(con: duckdb.DuckDBPyConnection, everything: str | None = None) -> None:
    """Bring the derived tables (ingest/derived.py) up to date with the records a load has
    just added: the tasks named in temp table `touched(task_id)` are recomputed, and every
    rollup's rows for the (day, task type, fleet) keys those tasks and their calls were or
    now are in: summed again where a task the store held before is in the key, and the new
    tasks' sums added where only new tasks are (a load's own records are told new by the
    staging tables; without them every touched task counts as held before). Other keys'
    rows are not touched, so a small append rewrites a few rows whatever the store's size.

    `everything`: "tasks" recomputes every task and then every rollup (a migration that
    changed the tasks' rule); "rollups" builds every rollup from the tasks and attempts as
    they are (a migration that added rollups). Only the rollups the store's schema has are
    built.

    Large task refreshes go in batches of about REFRESH_BATCH_TASKS tasks (by a hash of the
    task id), so that the memory the chains need stays bounded whatever the file's size.
    """
    con.execute(
        "create or replace temp table rollup_keys "
        "(day date not null, task_type varchar not null, fleet varchar, fresh boolean not null)"
    )
    con.execute("create or replace temp table fresh_tasks (task_id varchar)")
    if everything == "tasks":
        con.execute(
            "create or replace temp table touched as "
            "select task_id from attempts union select task_id from downstream_failures"
        )
    if everything is None:
        con.execute(derived.FRESH_TASKS)
        con.execute(derived.CALL_KEYS)
    if everything != "rollups":
        _refresh_tasks(con)
    if everything is not None:
        con.execute("delete from rollup_keys")
        con.execute(derived.ALL_KEYS)
    _refresh_rollups(con, whole=everything is not None)
    if everything == "tasks":
        con.execute("drop table touched")


def _refresh_tasks(con: duckdb.DuckDBPyConnection) -> None:
    """Recompute the tasks named in `touched`, noting their keys before and after."""
    sql = sql_file(derived.TASKS.sql)
    touched = con.execute("select count(*) from touched").fetchall()[0][0]
    batches = max(1, -(-touched // REFRESH_BATCH_TASKS))
    if batches > 1:
        con.execute("create or replace temp table touched_all as select task_id from touched")
    for batch in range(batches):
        if batches > 1:
            con.execute(
                "create or replace temp table touched as select task_id from touched_all "
                "where hash(task_id) % $batches = $batch",
                {"batches": batches, "batch": batch},
            )
        con.execute(derived.TASK_KEYS)  # where the touched tasks were
        con.execute("delete from tasks where task_id in (select task_id from touched)")
        con.execute(sql)
        con.execute(derived.TASK_KEYS)  # and where they are now


def _refresh_rollups(con: duckdb.DuckDBPyConnection, whole: bool) -> None:
    """Each rollup the schema has, in registry order: its rows of the keys that tasks held
    before touched summed again, then the new tasks' sums added to the rows of the keys
    only they touched (or, `whole`, or for a rollup kept whole, all of it again)."""
    con.execute(
        "create or replace temp table touched_keys as "
        "select day, task_type, fleet, bool_and(fresh) as fresh from rollup_keys group by all"
    )
    present = {
        r[0]
        for r in con.execute(
            "select table_name from duckdb_tables() where database_name = current_database() "
            "and schema_name = 'main'"
        ).fetchall()
    }
    rollups = [r for r in derived.ROLLUPS if r.name in present]  # as of this migration
    keyed = [r for r in rollups if r.kept == "key"]
    for fresh in (False, True):
        con.execute(
            "create or replace temp table rollup_keys as "
            "select day, task_type, fleet from touched_keys where fresh = $fresh",
            {"fresh": fresh},
        )
        if not con.execute("select count(*) from rollup_keys").fetchone()[0]:
            continue
        _scope(con, fresh)
        for r in keyed:
            if fresh:
                _add_new_tasks(con, r)
            else:
                con.execute(f"delete from {r.name} as r" + ("" if whole else f" where {_IN_KEYS}"))
                con.execute(f"insert into {r.name} {sql_file(r.sql)}")
    for r in rollups:
        if r.kept == "whole":
            con.execute(f"delete from {r.name}")
            con.execute(f"insert into {r.name} {sql_file(r.sql)}")


_IN_KEYS = (
    "exists (select 1 from rollup_keys as k where k.day = r.day "
    "and k.task_type = r.task_type and k.fleet is not distinct from r.fleet)"
)


def _scope(con: duckdb.DuckDBPyConnection, fresh: bool) -> None:
    """The tasks and calls the rollups' files sum: the store's (keys summed again), or the
    new tasks' alone (their sums to be added)."""
    for view, table, copy in (
        ("tasks_in_scope", "tasks", "fresh_task_rows"),
        ("calls_in_scope", "attempts", "fresh_call_rows"),
    ):
        source = table
        if fresh:
            con.execute(
                f"create or replace temp table {copy} as select * from {table} "
                "where task_id in (select task_id from fresh_tasks)"
            )
            source = copy
        con.execute(f"create or replace temp view {view} as select * from {source}")


def _add_new_tasks(con: duckdb.DuckDBPyConnection, r: derived.Derived) -> None:
    """Rollup `r`'s rows of the keys in rollup_keys with the new tasks' sums added: the rows
    and the new tasks' rows grouped again, each measure summed. A rollup of example rows
    (no measures) is chosen again from its rows and the new tasks together."""
    if not r.measures:
        _merge_examples(con, r)
        return
    columns = _columns(con, r.name)
    groups = [c for c in columns if c not in r.measures]
    sums = ", ".join(f"sum({c}) as {c}" if c in r.measures else c for c in columns)
    con.execute(f"create or replace temp table rollup_new as {sql_file(r.sql)}")
    con.execute(
        f"create or replace temp table rollup_added as select {sums} from ("
        f"select * from {r.name} as r where {_IN_KEYS} "
        f"union all by name from rollup_new) group by {', '.join(groups)}"
    )
    con.execute(f"delete from {r.name} as r where {_IN_KEYS}")
    con.execute(f"insert into {r.name} select * from rollup_added")


def _columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """The columns of a table of the store, in order."""
    return [
        c[0]
        for c in con.execute(
            "select column_name from duckdb_columns() where database_name = current_database() "
            "and schema_name = 'main' and table_name = ? order by column_index",
            [table],
        ).fetchall()
    ]


def _merge_examples(con: duckdb.DuckDBPyConnection, r: derived.Derived) -> None:
    """A rollup of example rows, for the keys in rollup_keys, chosen again by its own file
    from its stored rows of the keys and the new tasks' rows (its columns are the tasks')."""
    columns = ", ".join(_columns(con, r.name))
    con.execute(
        "create or replace temp view tasks_in_scope as "
        f"select * from {r.name} as r where {_IN_KEYS} "
        f"union all by name select {columns} from fresh_task_rows"
    )
    con.execute(f"create or replace temp table rollup_added as {sql_file(r.sql)}")
    con.execute(f"delete from {r.name} as r where {_IN_KEYS}")
    con.execute(f"insert into {r.name} select * from rollup_added")
    con.execute("create or replace temp view tasks_in_scope as select * from fresh_task_rows")
