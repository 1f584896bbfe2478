"""Where the pages get their numbers: reports, chart frames and the routing table of one
interaction's snapshot of the store, cached on the data version, the selection and the
config (Streamlit's cache_data), so a rerun that changes nothing reads nothing."""

from __future__ import annotations

import contextlib
import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pandas as pd
import streamlit as st

from tierwatch.dashboard.connection import config, reading
from tierwatch.dashboard.settings import settings
from tierwatch.ingest import flags as flag_store
from tierwatch.ingest.config import Config
from tierwatch.ingest.store import data_version
from tierwatch.queries import Filters, pricing, run, run_df
from tierwatch.queries.report import build_report
from tierwatch.queries.routing_table import routing_table


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
    return build_report(_snap.con, name, _config, _filters, **_options)


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
    _con = _snap.con
    # the spend rollups, built once per connection for the prices, shared with the reports
    if priced:
        pricing.register(_con, _config)
    return run_df(_con, name, _params)


@st.cache_data(show_spinner=False, max_entries=64)
def _cached_routing(db: str, version: int, filters_key: str, _snap, _filters) -> list:
    return routing_table(_snap.con, _filters)


@dataclasses.dataclass
class Snapshot:
    """What one interaction read from the store: its version and how to ask for more."""

    con: duckdb.DuckDBPyConnection
    version: int
    db: Path
    config: Config
    filters: Filters

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
