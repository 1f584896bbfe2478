"""Tables for people: every column of every table on every page gets a human label, its unit
and, where its meaning is not obvious, help text, from one place (`present`, which
`ui.table` calls). The frame itself keeps its stable column names (the CSV download and the
tests read them); only what is shown changes.

- rates and shares show as percentages; a rate between 0 and 1 that compares rows (failure,
  escalation, ...) as a bar;
- money as money (cents, or four places for what a single task costs);
- a `<name>_ci` column ([low, high]) as the interval of its rate or amount, "21.3–24.0%";
- counts with thousands separators, flags as check boxes;
- an absent value as a blank, never as None.
"""

from __future__ import annotations

import math

import pandas as pd
import streamlit as st

from tierwatch.queries.labels import HELP, LABELS, label_for

BAR_RATES = ("_rate", "_share", "share")
# columns whose values are the format's words (tier_up, reviewer_reject): shown as words
WORD_COLUMNS = {"action", "escalation_reason", "reason_code", "stale_reasons"}


def _last(column: str) -> str:
    return column.rsplit(".", 1)[-1]


def kind_of(column: str, values: pd.Series) -> str:
    """What a column holds: 'interval', 'rate', 'usd', 'count', 'number', 'flag', 'date'
    (a day), 'time' or 'text'."""
    last = _last(column)
    name = column.lower()
    if last.endswith("_ci"):
        return "interval"
    if pd.api.types.is_bool_dtype(values) or (
        values.dtype == object
        and values.dropna().map(lambda v: isinstance(v, bool)).all()
        and values.notna().any()
    ):
        return "flag"
    if pd.api.types.is_datetime64_any_dtype(values):
        return "date" if last.endswith(("day", "date")) else "time"
    numeric = pd.api.types.is_numeric_dtype(values)
    if not numeric:
        return "text"
    if (
        last.endswith(("_rate", "share", "_share"))
        or last in ("rate", "escalation_tax", "gap_recovered", "savings_vs", "routing_saves")
        or ".savings_vs" in name
        or name.startswith("savings_vs")
    ):
        return "rate"
    if "usd" in name or name.endswith("cost"):
        return "usd"
    if pd.api.types.is_integer_dtype(values):
        return "count"
    return "number"


def _rate(v) -> str:
    return f"{v:.1%}"


def money(v: float) -> str:
    """Dollars for people, the one rule of every page: whole dollars from $100, cents from
    $0.10, and what a single call or task costs to four places (six below a tenth of a cent);
    a saving (below zero) as -$845, the sign before the dollar."""
    if v < 0:
        return "-" + money(-v)
    if v >= 100:
        return f"${v:,.0f}"
    if v == 0 or v >= 0.1:
        return f"${v:,.2f}"
    return f"${v:.4f}" if v >= 0.001 else f"${v:.6f}"


def _absent(v) -> bool:
    return v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v))


def _text(value, kind: str) -> str:
    if _absent(value):
        return ""
    if kind == "rate":
        return _rate(value)
    if kind == "usd":
        return money(value)
    if kind == "count":
        return f"{int(value):,}"
    return f"{value:,.3g}" if isinstance(value, float) else str(value)


def _interval(value, kind: str) -> str:
    if isinstance(value, str):  # already text
        return value
    if value is None or isinstance(value, float) or len(value) != 2 or _absent(value[0]):
        return ""
    low, high = value
    if kind == "usd":
        return f"{money(low)}–{money(high)}"
    if kind == "rate":
        return f"{low:.1%}–{high:.1%}"
    return f"{low:,.3g}–{high:,.3g}"


def present(frame: pd.DataFrame, keep: set[str] = frozenset()) -> tuple[pd.DataFrame, dict]:
    """`frame` as shown (intervals and columns with blanks as text) and its column config;
    the columns in `keep` are left as they are (the page configures them itself)."""
    shown = frame.copy()
    config: dict = {}
    for column in frame.columns:
        if column in keep:
            continue
        values = frame[column]
        kind = kind_of(column, values)
        label = label_for(column)
        help_text = HELP.get(_last(column)) or HELP.get(column)
        if kind == "interval":
            base = column[: -len("_ci")]
            base_kind = (
                kind_of(base, frame[base])
                if base in frame.columns
                else ("rate" if base.endswith("rate") else "number")
            )
            shown[column] = values.map(lambda v, k=base_kind: _interval(v, k))
            config[column] = st.column_config.TextColumn(
                f"{label_for(base)}, 95% interval", help=help_text
            )
            continue
        if kind in ("rate", "usd", "count", "number") and values.isna().any():
            # a number column with blanks: shown as text, a blank where nothing is known
            shown[column] = values.map(lambda v, k=kind: _text(v, k))
            config[column] = st.column_config.TextColumn(label, help=help_text)
            continue
        if kind == "rate":
            bar = _last(column).endswith(BAR_RATES) and values.between(0, 1).all()
            config[column] = (
                st.column_config.ProgressColumn(
                    label, help=help_text, format="percent", min_value=0.0, max_value=1.0
                )
                if bar
                else st.column_config.NumberColumn(label, help=help_text, format="percent")
            )
        elif kind == "usd":
            small = values.abs().max() < 0.1 if len(values) else False
            config[column] = st.column_config.NumberColumn(
                label, help=help_text, format="$%.4f" if small else "dollar"
            )
        elif kind == "count":
            config[column] = st.column_config.NumberColumn(
                label, help=help_text, format="localized"
            )
        elif kind == "number":
            config[column] = st.column_config.NumberColumn(label, help=help_text, format="%.3g")
        elif kind == "date":
            config[column] = st.column_config.DateColumn(label, help=help_text, format="YYYY-MM-DD")
        elif kind == "time":  # UTC, as the store keeps every time
            config[column] = st.column_config.DatetimeColumn(
                label, help=help_text, format="YYYY-MM-DD HH:mm"
            )
        elif kind == "flag":
            shown[column] = values.astype("boolean")
            config[column] = st.column_config.CheckboxColumn(label, help=help_text)
        else:
            if _last(column) in WORD_COLUMNS:
                shown[column] = values.map(
                    lambda v: v.replace("_", " ") if isinstance(v, str) else v
                )
            config[column] = st.column_config.TextColumn(label, help=help_text)
    return shown, config


__all__ = ["present", "kind_of", "LABELS"]
