"""The dashboard's connections to the store: short read-only visits, one writer at a time.

The dashboard never keeps the DuckDB file open while idle. Each interaction (a script run)
opens it read-only once (`visit`, shared by everything the run reads) and closes it when
the run ends, so `tierwatch ingest` can write between interactions. Inside this process,
reads share the file and a write (a flag, an upload) waits until no read is open: DuckDB
refuses a read-write connection next to read-only ones in one process. A busy file is
retried briefly (`RETRIES`), in one loop for readers and writers. The rollups a run built
are carried to the next run's connection for the same data version (`_Rollups`).
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb

from tierwatch.dashboard import access
from tierwatch.dashboard.settings import READ_ONLY_ENV, settings
from tierwatch.ingest.config import Config, load_config
from tierwatch.ingest.store import StoreError, StoreLocked, StoreMissing, data_version, open_store

RETRIES = (0.1, 0.3, 0.6, 1.0, 2.0)  # seconds to wait before each retry of a busy file


class Unavailable(Exception):
    """The store cannot be read right now; the message says why and what to do."""

    def __init__(self, message: str, *, kind: str):
        super().__init__(message)
        self.kind = kind  # "missing", "locked", "error"


def config() -> Config:
    """The config this dashboard was started with (ConfigError shows as a page error)."""
    return load_config(settings().config_path)


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


def _open(db: Path, *, read_only: bool):
    """open_store, retried briefly while another process holds the file; (context,
    connection). Unavailable says why it cannot be opened."""
    for wait in (*RETRIES, None):
        ctx = open_store(db, read_only=read_only)
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
        self._ctx = None
        self._gate = None

    def open(self) -> duckdb.DuckDBPyConnection:
        if self.con is None:
            gate = _GATE.read()
            gate.__enter__()
            try:
                self._ctx, self.con = _open(self.db, read_only=True)
            except BaseException:
                gate.__exit__(None, None, None)
                raise
            self._gate = gate
            self.version = data_version(self.con)
        return self.con

    def close(self) -> None:
        if self.con is None:
            return
        try:
            self._ctx.__exit__(None, None, None)
        finally:
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
        ctx, con = _open(db, read_only=True)
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
        ctx, con = _open(db, read_only=False)
        try:
            yield con
        finally:
            ctx.__exit__(None, None, None)


@contextlib.contextmanager
def exclusive(db: Path, what: str) -> Iterator[None]:
    """The file to a writer of its own (ingest_paths opens it): refused on a read-only
    dashboard; the run's read visit is closed and the other sessions' reads wait."""
    refuse_if_read_only(what)
    current = _current_visit(db)
    if current is not None:
        current.close()
    with _GATE.write():
        yield
