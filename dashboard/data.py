"""Where the pages get their numbers: short read-only visits to the store, cached by version.

The dashboard never keeps the DuckDB file open while idle. Each interaction opens it
read-only, reads `data_version`, takes what it needs (from the cache when the version,
the selection and the config are the ones cached) and closes it again, so
`tierwatch ingest` can write between interactions. Inside this process, reads share the
file and a write (a flag, an upload) waits until no read is open: DuckDB refuses a
read-write connection next to read-only ones in one process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

from tierwatch.dashboard import access
from tierwatch.dashboard.settings import (
    MAX_UPLOAD_ENV,
    MAX_UPLOAD_ROWS_ENV,
    READ_ONLY_ENV,
    Settings,
    settings,
)
from tierwatch.ingest import flags as flag_store
from tierwatch.ingest import load
from tierwatch.ingest.config import Config, load_config
from tierwatch.ingest.store import StoreError, StoreLocked, StoreMissing, data_version, open_store
from tierwatch.queries import Filters, ensure_table, pricing, run, run_df, sql_text
from tierwatch.queries.report import build_report
from tierwatch.queries.routing_table import routing_table

RETRIES = (0.1, 0.3, 0.6, 1.0, 2.0)  # seconds to wait before each retry of a busy file


class Unavailable(Exception):
    """The store cannot be read right now; the message says why and what to do."""

    def __init__(self, message: str, *, kind: str):
        super().__init__(message)
        self.kind = kind  # "missing", "locked", "error"


def config() -> Config:
    """The config this dashboard was started with (ConfigError shows as a page error)."""
    return load_config(settings().config_path)


# --- one file, many sessions -------------------------------------------------------------


class _ReadWriteGate:
    """Many readers or one writer at a time, within this process."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._readers = 0
        self._writing = False

    @contextlib.contextmanager
    def read(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing)
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                self._cond.notify_all()

    @contextlib.contextmanager
    def write(self) -> Iterator[None]:
        with self._cond:
            self._cond.wait_for(lambda: not self._writing and self._readers == 0)
            self._writing = True
        try:
            yield
        finally:
            with self._cond:
                self._writing = False
                self._cond.notify_all()


_GATE = _ReadWriteGate()


def _open_read(db: Path):
    """open_store read-only, retried briefly while another process writes."""
    for wait in (*RETRIES, None):
        ctx = open_store(db, read_only=True)
        try:
            return ctx, ctx.__enter__()
        except StoreMissing as e:
            raise Unavailable(str(e), kind="missing") from None
        except StoreLocked as e:
            if wait is None:
                raise Unavailable(str(e), kind="locked") from None
            time.sleep(wait)
        except StoreError as e:
            raise Unavailable(str(e), kind="error") from None
    raise AssertionError("unreachable")


class _Visit:
    """A script run's one read-only visit to the store: opened on first use, closed at the
    end of the run, or before a write of the same run (a flag, an upload)."""

    def __init__(self, db: Path) -> None:
        self.db = db
        self.con: duckdb.DuckDBPyConnection | None = None
        self.version: int | None = None
        self.warmed = False  # the kept rollups were copied into this connection
        self._ctx = None
        self._gate = None

    def open(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            gate = _GATE.read()
            gate.__enter__()
            try:
                self._ctx, self.con = _open_read(self.db)
            except BaseException:
                gate.__exit__(None, None, None)
                raise
            self._gate = gate
            self.version = data_version(self.con)
            self.warmed = False
        return self.con

    def close(self) -> None:
        if self.con is None:
            return
        try:
            if self.warmed:  # something was computed: keep what it built for the next run
                _ROLLUPS.save(self.con, str(self.db), self.version)
        finally:
            self._ctx.__exit__(None, None, None)
            self.con = self._ctx = None
            self._gate.__exit__(None, None, None)
            self._gate = None


_LOCAL = threading.local()


@contextlib.contextmanager
def visit() -> Iterator[None]:
    """Share one read-only connection among everything a script run reads (the sidebar's
    options and the page), so a run opens the file once; closed when the run ends."""
    current = _Visit(settings().db)
    _LOCAL.visit = current
    try:
        yield
    finally:
        _LOCAL.visit = None
        current.close()


def _current_visit(db: Path) -> _Visit | None:
    current = getattr(_LOCAL, "visit", None)
    return current if current is not None and current.db == db else None


@contextlib.contextmanager
def reading(db: Path | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-only connection: the run's visit when there is one, else one of its own that
    is closed on leaving.

    Raises Unavailable when there is no database yet or another process keeps it locked
    through a few short retries.
    """
    db = db or settings().db
    current = _current_visit(db)
    if current is not None:
        yield current.open()
        return
    with _GATE.read():
        ctx, con = _open_read(db)
        try:
            yield con
        finally:
            ctx.__exit__(None, None, None)


class ReadOnly(Unavailable):
    """A write asked of a read-only dashboard, or by a viewer: refused before the store is
    touched."""

    def __init__(self, what: str, viewer: str | None = None):
        if viewer is not None:
            message = (
                f"{viewer} is a viewer of this dashboard and cannot {what}; editors are "
                "listed under [dashboard] in tierwatch.toml."
            )
        else:
            message = (
                f"This dashboard is read-only: it cannot {what}. Run it without --read-only "
                f"(and without {READ_ONLY_ENV}) to write; logs load from a terminal with "
                "tierwatch ingest."
            )
        super().__init__(message, kind="read-only")


def may_write() -> bool:
    """Whether this session may write: the dashboard is not read-only, and the visitor is an
    editor (or no sign-in is configured)."""
    return not settings().read_only and access.can_write(config().access)


def refuse_if_read_only(what: str) -> None:
    """Every write path of the dashboard starts here: a read-only dashboard, a viewer, or
    (with sign-in configured) a caller nobody signed in as, never opens the store for
    writing, whatever page or widget asked."""
    if settings().read_only:
        raise ReadOnly(what)
    if not access.can_write(config().access):
        raise ReadOnly(what, viewer=access.signed_in_user() or "a visitor who is not signed in")


@contextlib.contextmanager
def writing(db: Path | None = None, what: str = "write") -> Iterator[duckdb.DuckDBPyConnection]:
    """A read-write connection for one write (a flag, an upload), closed on leaving. The
    run's own read visit is closed first: DuckDB refuses a writer next to readers. Refused
    (ReadOnly) on a read-only dashboard."""
    refuse_if_read_only(what)
    db = db or settings().db
    current = _current_visit(db)
    if current is not None:
        current.close()
    with _GATE.write():
        for wait in (*RETRIES, None):
            try:
                ctx = open_store(db, read_only=False)
                con = ctx.__enter__()
                break
            except StoreLocked as e:
                if wait is None:
                    raise Unavailable(str(e), kind="locked") from None
                time.sleep(wait)
            except StoreError as e:
                raise Unavailable(str(e), kind="error") from None
        try:
            yield con
        finally:
            ctx.__exit__(None, None, None)


# --- cached reads --------------------------------------------------------------------------


def _key(value) -> str:
    """A stable cache key for filters, a config or options (their full contents)."""
    if dataclasses.is_dataclass(value):
        return repr(value)
    return json.dumps(value, sort_keys=True, default=str)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached_report(
    db: str,
    version: int,
    name: str,
    config_key: str,
    filters_key: str,
    options_key: str,
    _snap,
    _config,
    _filters,
    _options,
) -> dict:
    return build_report(_snap.warm(), name, _config, _filters, **_options)


@st.cache_data(show_spinner=False, max_entries=256)
def _cached_frame(
    db: str,
    version: int,
    name: str,
    config_key: str,
    filters_key: str,
    priced: bool,
    _snap,
    _config,
    _params,
) -> pd.DataFrame:
    _con = _snap.warm()
    # the reports' own rollups, built once per connection (and prices), shared with them
    if "task_rollup" in sql_text(name):
        ensure_table(_con, "task_rollup")
    if priced:
        pricing.register(_con, _config)
        pricing.ensure_superseded_spend(_con)
    return run_df(_con, name, _params)


@st.cache_data(show_spinner=False, max_entries=64)
def _cached_routing(db: str, version: int, filters_key: str, _snap, _filters) -> list:
    return routing_table(_snap.warm(), _filters)


@dataclasses.dataclass
class Snapshot:
    """What one interaction read from the store: its version and how to ask for more."""

    con: duckdb.DuckDBPyConnection
    version: int
    db: Path
    config: Config
    filters: Filters
    visit: _Visit | None = None

    def warm(self) -> duckdb.DuckDBPyConnection:
        """The connection, with the rollups of earlier runs restored into it (once per
        connection, and only when something is not cached: a cached rerun copies nothing)."""
        if self.visit is not None and not self.visit.warmed:
            _ROLLUPS.restore(self.con, str(self.db), self.version)
            self.visit.warmed = True
        return self.con

    def report(self, name: str, config: Config | None = None, **options) -> dict:
        """`build_report(name)` for this selection, cached on the data version."""
        cfg = config or self.config
        return _cached_report(
            str(self.db),
            self.version,
            name,
            _key(cfg),
            _key(self.filters),
            _key(options),
            _snap=self,
            _config=cfg,
            _filters=self.filters,
            _options=options,
        )

    def frame(
        self, name: str, *, priced: bool = False, config: Config | None = None, **extra
    ) -> pd.DataFrame:
        """`queries/<name>.sql` (a dashboard_* chart aggregate) for this selection."""
        cfg = config or self.config
        params = {**self.filters.params(), **extra}
        return _cached_frame(
            str(self.db),
            self.version,
            name,
            _key(cfg),
            _key(params),
            priced,
            _snap=self,
            _config=cfg,
            _params=params,
        )

    def routing(self) -> list:
        """The routing table for this selection (flags included), cached on the version."""
        return _cached_routing(
            str(self.db), self.version, _key(self.filters), _snap=self, _filters=self.filters
        )

    def current_flags(self) -> dict:
        return flag_store.current_flags(self.con)

    def flag_history(self) -> list:
        return flag_store.history(self.con)


class _Rollups:
    """The reports' rollups (temp tables each connection builds once: task_rollup,
    attempt_spend, ...), kept in memory between interactions of this process.

    The dashboard opens a new connection per interaction, so without this every cache miss
    (a filter change, a page not seen yet) would rebuild them from every attempt. They are
    copied out after a run and copied into the next connection for the same data version;
    the reports' own keys (built_tables, pricing_state) still decide whether a restored
    table is current for the data and the prices, so a stale one is rebuilt, never used.
    """

    MAX_ROWS = 2_000_000  # a bigger temp table is rebuilt when needed rather than kept

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._saved: dict[str, tuple[int, dict, list[str], frozenset]] = {}

    @staticmethod
    def _state(con) -> frozenset:
        names = con.execute(
            "select table_name from duckdb_tables() where temporary and table_name = 'built_tables'"
        ).fetchall()
        rows = con.execute("select name, key from built_tables").fetchall() if names else []
        return frozenset(rows)

    def restore(self, con, db: str, version: int) -> None:
        with self._lock:
            saved = self._saved.get(db)
        if not saved or saved[0] != version:
            return
        _, tables, views, _ = saved
        for name, (ddl, table) in tables.items():
            con.execute(ddl)  # the exact column types (Arrow would turn hugeint into decimal)
            con.register("tierwatch_restore", table)
            con.execute(f'insert into "{name}" select * from tierwatch_restore')
            con.unregister("tierwatch_restore")
        for sql in views:
            con.execute(sql.replace("CREATE TEMP VIEW", "CREATE OR REPLACE TEMP VIEW", 1))

    def save(self, con, db: str, version: int) -> None:
        state = self._state(con)
        with self._lock:
            saved = self._saved.get(db)
            if saved and saved[0] == version and saved[3] == state:
                return
        sizes = con.execute(
            "select table_name, estimated_size from duckdb_tables() where temporary"
        ).fetchall()
        kept = {name for name, size in sizes if size <= self.MAX_ROWS}
        tables = {}
        for name in kept:
            columns = con.execute(
                "select column_name, data_type from duckdb_columns() "
                "where database_name = 'temp' and table_name = ? order by column_index",
                [name],
            ).fetchall()
            ddl = (
                f'create or replace temp table "{name}" ('
                + ", ".join(f'"{c}" {t}' for c, t in columns)
                + ")"
            )
            data = con.sql(f'select * from "{name}"').to_arrow_table()
            if name == "built_tables":  # forget what was too big to keep: it gets rebuilt
                data = pa.Table.from_pylist(
                    [r for r in data.to_pylist() if r["name"] in kept], schema=data.schema
                )
            tables[name] = (ddl, data)
        views = [
            r[0]
            for r in con.execute(
                "select sql from duckdb_views() where temporary and not internal"
            ).fetchall()
        ]
        with self._lock:
            self._saved[db] = (version, tables, views, state)


_ROLLUPS = _Rollups()


@contextlib.contextmanager
def snapshot(filters: Filters, cfg: Config | None = None) -> Iterator[Snapshot]:
    """Open the store for this interaction; the version is read fresh every time."""
    s = settings()
    with reading(s.db) as con:
        yield Snapshot(
            con=con,
            version=data_version(con),
            db=s.db,
            config=cfg or config(),
            filters=filters,
            visit=_current_visit(s.db),
        )


def filter_options() -> dict:
    """The date span, fleets and task types in the store, for the filter widgets."""
    s = settings()
    with reading(s.db) as con:
        version = data_version(con)
        return _cached_options(str(s.db), version, _con=con)


@st.cache_data(show_spinner=False, max_entries=16)
def _cached_options(db: str, version: int, _con) -> dict:
    row = run(_con, "dashboard_filter_options", {})[0]
    return {
        "first_day": row["first_day"],
        "last_day": row["last_day"],
        "fleets": list(row["fleets"] or []),
        "task_types": list(row["task_types"] or []),
        "attempts": int(row["attempts"]),
    }


# --- writes ---------------------------------------------------------------------------------


def set_flag(task_type: str, target_tier: str, *, who: str, reason: str, note: str):
    """Flag a task type; signed by the signed-in user when there is one (never the name
    typed), else by `who`."""
    with writing(what="set a flag") as con:
        who = access.signed_in_user() or who
        return flag_store.flag(
            con, task_type, target_tier, flagged_by=who, reason=reason, note=note
        )


def clear_flag(task_type: str, *, who: str, note: str):
    with writing(what="clear a flag") as con:
        who = access.signed_in_user() or who
        return flag_store.unflag(con, task_type, flagged_by=who, note=note)


class UploadRefused(Exception):
    """An upload this dashboard will not load (too big, too many rows); says why."""


def check_upload(name: str, data: bytes, limits: Settings) -> None:
    """Refuse an upload over the size cap, or a Parquet file whose metadata has too many rows.

    The row count comes from the Parquet footer, before any row is read.
    """
    mb = len(data) / 1_000_000
    if mb > limits.max_upload_mb:
        raise UploadRefused(
            f"{name}: {len(data):,} bytes is over this dashboard's upload limit of "
            f"{limits.max_upload_mb:g} MB; load it with `tierwatch ingest {name}` "
            f"or raise {MAX_UPLOAD_ENV}"
        )
    if Path(name).suffix.lower() in (".parquet", ".pq"):
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            rows = pq.read_metadata(pa.BufferReader(data)).num_rows
        except (pa.ArrowInvalid, OSError) as e:
            raise UploadRefused(f"{name}: not a readable Parquet file ({e})") from None
        if rows > limits.max_upload_rows:
            raise UploadRefused(
                f"{name}: {rows:,} rows is over this dashboard's limit of "
                f"{limits.max_upload_rows:,}; load it with `tierwatch ingest {name}` or "
                f"raise {MAX_UPLOAD_ROWS_ENV}"
            )


def ingest_upload(name: str, data: bytes, progress: Callable[[int], None] | None = None):
    """Load one uploaded file (written to a temp file with its own suffix); its FileResult.

    Raises UploadRefused, load.IngestError or Unavailable with a message for the page.
    """
    refuse_if_read_only("load a file")
    limits = settings()
    check_upload(name, data, limits)
    suffixes = "".join(Path(name).suffixes[-2:]) or ".jsonl"
    with tempfile.TemporaryDirectory(prefix="tierwatch-upload-") as tmp:
        path = Path(tmp) / f"upload{suffixes}"
        path.write_bytes(data)
        with writing(limits.db, what="load a file") as con:
            return load.ingest_file(
                con,
                path,
                config(),
                display_name=name,
                progress=progress,
                loaded_by=access.signed_in_user() or "dashboard (no sign-in)",
            )


def sample_data_dir() -> Path:
    """The committed sample fleet next to the packages."""
    return Path(load.__file__).resolve().parent.parent / "sample_data"


def load_sample_fleet(db: Path | None = None, cfg: Config | None = None):
    """Ingest the sample fleet (committed files, else freshly generated); the IngestReport."""
    refuse_if_read_only("load the sample fleet")
    db = db or settings().db
    cfg = cfg or config()
    folder = sample_data_dir()
    files = (
        [p for p in sorted(folder.glob("*")) if p.is_file() and _is_log(p)]
        if folder.is_dir()
        else []
    )
    current = _current_visit(db)
    if current is not None:
        current.close()
    with _GATE.write():
        if files:
            return load.ingest_paths(db, files, cfg)
        from tierwatch.ingest.sample import write_sample

        with tempfile.TemporaryDirectory(prefix="tierwatch-sample-") as tmp:
            write_sample(Path(tmp))
            return load.ingest_paths(db, [tmp], cfg)


def _is_log(path: Path) -> bool:
    name = path.name.lower().removesuffix(".gz")
    return Path(name).suffix in load.SUFFIXES
