"""The selection every page shares: date range, fleets, task types, kept in the URL.

The widgets live in the sidebar of the app's entry script, so they keep their values from
page to page; their values are written to the URL (`?since=…&until=…&fleet=…&task_type=…`)
on every run, and a fresh session starts from the URL, so a link shares the view.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from tierwatch.dashboard.text import literal
from tierwatch.queries import Filters

DATES_KEY = "filter_dates"
FLEETS_KEY = "filter_fleets"
TASK_TYPES_KEY = "filter_task_types"
_SEEDED = "filters_seeded_from_url"
_SPAN = "filters_data_span"  # the data's (first, last) day when the widgets were last drawn


def _url_date(name: str) -> dt.date | None:
    raw = st.query_params.get(name)
    if not raw:
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        return None


def _seed_from_url(options: dict) -> list[str]:
    """Put the URL's selection into the widgets' state once per session; what was dropped."""
    dropped: list[str] = []
    first, last = options["first_day"], options["last_day"]
    since = _url_date("since") or first
    until = _url_date("until") or last
    since, until = max(since, first), min(until, last)
    if since > until:
        since, until = first, last
        dropped.append("a date range outside the data")
    st.session_state[DATES_KEY] = (since, until)
    for key, param, known in (
        (FLEETS_KEY, "fleet", options["fleets"]),
        (TASK_TYPES_KEY, "task_type", options["task_types"]),
    ):
        wanted = st.query_params.get_all(param)
        st.session_state[key] = [v for v in wanted if v in known]
        dropped += [f"{param} {literal(repr(v))}" for v in wanted if v not in known]
    st.session_state[_SEEDED] = True
    return dropped


def _clamp_state(options: dict) -> None:
    """Keep widget state inside the options after the data changed (an upload, an ingest)."""
    first, last = options["first_day"], options["last_day"]
    dates = st.session_state.get(DATES_KEY)
    if isinstance(dates, tuple | list) and tuple(dates) == st.session_state.get(_SPAN):
        st.session_state[DATES_KEY] = (first, last)  # "everything" stays everything
    elif isinstance(dates, tuple | list) and len(dates) == 2:
        since, until = max(dates[0], first), min(dates[1], last)
        st.session_state[DATES_KEY] = (since, until) if since <= until else (first, last)
    for key, known in ((FLEETS_KEY, options["fleets"]), (TASK_TYPES_KEY, options["task_types"])):
        current = st.session_state.get(key) or []
        st.session_state[key] = [v for v in current if v in known]


def sidebar(options: dict) -> Filters:
    """Draw the filter widgets; the selection they make, also written to the URL."""
    if not st.session_state.get(_SEEDED):
        dropped = _seed_from_url(options)
        if dropped:
            st.sidebar.warning(
                "The link asked for " + ", ".join(dropped) + ", which the data does not hold; "
                "showing the rest."
            )
    else:
        _clamp_state(options)

    st.sidebar.header("Selection")
    dates = st.sidebar.date_input(
        "Days (UTC)",
        min_value=options["first_day"],
        max_value=options["last_day"],
        key=DATES_KEY,
        help="Tasks count on the UTC day of their first executor attempt.",
    )
    fleets = st.sidebar.multiselect(
        "Fleets", options["fleets"], key=FLEETS_KEY, placeholder="All fleets"
    )
    task_types = st.sidebar.multiselect(
        "Task types", options["task_types"], key=TASK_TYPES_KEY, placeholder="All task types"
    )

    if isinstance(dates, tuple | list) and len(dates) == 2:
        since, until = dates
    else:  # the first click of a range: keep the old end until the second
        since = dates[0] if isinstance(dates, tuple | list) and dates else options["first_day"]
        until = options["last_day"]

    st.session_state[_SPAN] = (options["first_day"], options["last_day"])
    filters = Filters(since=since, until=until, fleets=tuple(fleets), task_types=tuple(task_types))
    write_url(filters, options)
    return filters


# query parameters a page reads for itself, kept as they are: the What-if page's move
PAGE_PARAMS = ("move", "to")


def write_url(filters: Filters, options: dict) -> None:
    """The selection as query parameters; a full range and empty lists are left out; a
    page's own parameters (PAGE_PARAMS) are kept."""
    wanted: dict[str, str | list[str]] = {
        k: st.query_params.get_all(k) for k in PAGE_PARAMS if k in st.query_params
    }
    if filters.since and filters.since != options["first_day"]:
        wanted["since"] = filters.since.isoformat()
    if filters.until and filters.until != options["last_day"]:
        wanted["until"] = filters.until.isoformat()
    if filters.fleets:
        wanted["fleet"] = list(filters.fleets)
    if filters.task_types:
        wanted["task_type"] = list(filters.task_types)
    current = {k: st.query_params.get_all(k) for k in st.query_params}
    normalized = {k: v if isinstance(v, list) else [v] for k, v in wanted.items()}
    if current != normalized:
        st.query_params.from_dict(wanted)
