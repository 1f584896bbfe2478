"""Pieces every page shares: the selection, tables with CSV downloads, empty and busy states.

User text (task types, fleets, notes) is shown through widgets that render text (dataframes,
st.text, st.code), or through `literal` (dashboard/text.py) where Streamlit renders markdown;
nothing here uses unsafe_allow_html.
"""

from __future__ import annotations

import dataclasses
import re

import pandas as pd
import streamlit as st

from tierwatch.dashboard import columns, connection, reads, writes
from tierwatch.dashboard import settings as dashboard_settings
from tierwatch.dashboard.text import literal  # noqa: F401 (pages call ui.literal)
from tierwatch.queries import Filters, QueryError

SELECTION_KEY = "_tierwatch_selection"
UPLOAD_PAGE = "upload"


@dataclasses.dataclass(frozen=True)
class Selection:
    filters: Filters
    options: dict


def set_selection(selection: Selection) -> None:
    st.session_state[SELECTION_KEY] = selection


def selection() -> Selection:
    """The selection the entry script drew in the sidebar for this run."""
    return st.session_state[SELECTION_KEY]


def snapshot(config=None):
    """Open the store read-only for this run (see reads.snapshot)."""
    return reads.snapshot(selection().filters, config)


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "table"


def records(rows: list[dict] | None) -> pd.DataFrame:
    """A report's list of objects as a flat table (nested objects become `a.b` columns)."""
    if not rows:
        return pd.DataFrame()
    frame = pd.json_normalize(rows, sep=".")
    for column in frame.columns:  # lists (paths) read better as text; intervals stay pairs
        if column.endswith("_ci"):
            continue
        if frame[column].map(lambda v: isinstance(v, list)).any():
            frame[column] = frame[column].map(
                lambda v: ", ".join(_cell(x) for x in v) if isinstance(v, list) else v
            )
    return frame


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}"
    if isinstance(value, dict):
        return "; ".join(f"{k}: {_cell(v)}" for k, v in value.items())
    return str(value)


def table(frame: pd.DataFrame, name: str, *, caption: str | None = None, **kwargs) -> None:
    """A table and a button to download it as CSV (the whole table, as shown)."""
    if caption:
        st.caption(caption)
    if frame.empty:
        st.text("(nothing in this selection)")
        return
    # labels, units, intervals and blanks from one place (dashboard/columns.py); a page's
    # own column_config wins
    own = kwargs.pop("column_config", {})
    shown, config = columns.present(frame, keep=set(own))
    config.update(own)
    # an absent text value shows as blank, not as the word None (the CSV keeps it empty too)
    for c in shown.columns:
        if shown[c].dtype == object or pd.api.types.is_string_dtype(shown[c]):
            shown[c] = _displayable(shown[c])
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, **kwargs)
    st.download_button(
        f"Download {name} as CSV",
        frame.to_csv(index=False).encode("utf-8"),
        file_name=f"tierwatch-{_slug(name)}.csv",
        mime="text/csv",
        key=f"csv-{_slug(name)}",
    )


def _displayable(column: pd.Series) -> pd.Series:
    """An object column as one Arrow type: text with blanks for absent values, or
    true/false with blanks (a column of flags that some rows lack), or else every value
    as its text."""
    present = column[column.notna()]
    if all(isinstance(v, str) for v in present):
        return column.where(column.notna(), "")
    if all(isinstance(v, bool) for v in present):
        return column.astype("boolean")
    return column.map(lambda v: "" if _absent(v) else str(v))


def _absent(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def report_or_note(snap, name: str, **options) -> dict | None:
    """`snap.report(name)`, or None after saying why there is nothing to show."""
    result = snap.report(name, **options)
    if result.get("empty"):
        st.info(literal(result.get("message", "Nothing to show for this selection.")))
        return None
    return result


def optional_report(snap, name: str, **options) -> dict | str:
    """The report, or (when this version cannot build it or the selection is empty) the
    message to show in its place, made safe for markdown (it may name the selection)."""
    try:
        result = snap.report(name, **options)
    except QueryError as e:
        return literal(str(e))
    if result.get("empty"):
        return literal(result.get("message", "Nothing to show for this selection."))
    return result


def pct(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}%}"


def usd(value: float | None) -> str:
    return "–" if value is None else columns.money(value)


def rate_ci(rate: float | None, interval=None) -> str:
    """A rate with its interval, for people: `22.6% (21.3–24.0%)`; `unknown` without one."""
    if rate is None:
        return "unknown"
    if not interval or interval[0] is None:
        return f"{rate:.1%}"
    return f"{rate:.1%} ({interval[0]:.1%}–{interval[1]:.1%})"


def usd_ci(value: float | None, interval=None) -> str:
    """Money with its interval: `$4.52 ($4.42–$4.66)`; `unknown` without a value."""
    if value is None:
        return "unknown"
    if not interval or interval[0] is None:
        return usd(value)
    return f"{usd(value)} ({usd(interval[0])}–{usd(interval[1])})"


def ci(interval) -> str:
    if not interval or interval[0] is None:
        return ""
    return f"95% interval {interval[0]:.1%}–{interval[1]:.1%}"


def can_write() -> bool:
    """Whether this visitor may flag and upload: not read-only, and an editor (or no
    sign-in configured)."""
    return connection.may_write()


def empty_state(message: str) -> None:
    """No data yet: say so, and offer the two ways to get some."""
    st.title("tierwatch")
    st.info(message)
    settings = dashboard_settings.settings()
    st.markdown(
        "tierwatch shows how a fleet's planner routes subtasks across model tiers: where "
        "tasks fail by planner tier, where escalations pile up, what routing saves, whether "
        "confidence can be trusted, and which task types to re-tier."
    )
    if not can_write():
        st.markdown(
            "This dashboard is read-only. Load logs from a terminal: "
            "`tierwatch ingest PATH --db " + settings.db.name.replace("`", "'") + "`"
        )
        return
    left, right = st.columns(2)
    with left:
        st.subheader("Try it on the sample fleet")
        st.caption(
            "30 days of a simulated fleet with one planted case of each routing failure mode."
        )
        if st.button("Load the sample fleet", type="primary", key="load-sample"):
            with st.spinner("Loading the sample fleet…"):
                report = writes.load_sample_fleet()
            totals = report.totals
            st.success(f"Loaded {totals['loaded']:,} records from {len(report.files)} files.")
            st.rerun()
    with right:
        st.subheader("Or load your own logs")
        st.caption("JSONL, CSV or Parquet in log format v1 (gzip is fine).")
        st.page_link("views/upload.py", label="Upload log files", icon=":material/upload:")
        st.caption(f"From a terminal: tierwatch ingest PATH --db {literal(settings.db.name)}")


def without_path(message: str) -> str:
    """A store message as a visitor sees it: the database by its file name, not its path
    (the full path is for whoever started the server, on its terminal)."""
    db = dashboard_settings.settings().db
    for path in {str(db.resolve()), str(db)}:
        message = message.replace(path, db.name)
    return message


def unavailable(error: connection.Unavailable) -> None:
    """The store cannot be read now: what is happening and what to do."""
    if error.kind == "missing":
        empty_state(literal(without_path(str(error))))
        return
    if error.kind == "locked":
        st.warning(
            "The database is busy: "
            + literal(without_path(str(error)))
            + " The dashboard tried a few times; "
            "it shows the new data as soon as the writer is done."
        )
    else:
        st.error(literal(without_path(str(error))))
    if st.button("Try again", key="retry-store"):
        st.rerun()
