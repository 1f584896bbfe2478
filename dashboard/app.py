"""The tierwatch dashboard's entry script: the pages, the shared selection, the error states.

Run it with `tierwatch dashboard` (or `streamlit run dashboard/app.py` with TIERWATCH_DB
set). Every page reads the store read-only for one interaction and lets go of it again.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import streamlit as st

from tierwatch.dashboard import access, connection, filters, reads, ui
from tierwatch.dashboard import settings as dashboard_settings
from tierwatch.ingest.config import ConfigError
from tierwatch.ingest.environment import SettingError
from tierwatch.ingest.store import StoreError, explain, is_store_failure
from tierwatch.queries import QueryError

HERE = Path(__file__).parent

st.set_page_config(page_title="tierwatch", page_icon=":material/alt_route:", layout="wide")

try:
    settings = dashboard_settings.settings()
    visitor = access.identify(connection.config().access, settings.read_only)
except (ConfigError, SettingError) as e:
    st.error(ui.literal(str(e)))
    st.stop()
if isinstance(visitor, access.TurnedAway):
    st.title("tierwatch")
    if visitor.user:
        st.error(f"Signed in as {ui.literal(visitor.user)}. " + visitor.message)
    else:
        st.warning(visitor.message)
    if visitor.sign_in:
        st.button("Sign in", type="primary", on_click=st.login)
    elif visitor.user and connection.config().access.auth == "oidc":
        st.button("Sign out", on_click=st.logout)
    st.stop()
access.remember(visitor)

PAGES = [
    st.Page(
        HERE / "views/overview.py", title="Overview", icon=":material/dashboard:", default=True
    ),
    st.Page(HERE / "views/planner_tiers.py", title="Planner tiers", icon=":material/layers:"),
    st.Page(HERE / "views/escalations.py", title="Escalations", icon=":material/trending_up:"),
    st.Page(HERE / "views/costs.py", title="Costs", icon=":material/payments:"),
    st.Page(HERE / "views/confidence.py", title="Confidence", icon=":material/speed:"),
    st.Page(HERE / "views/drift.py", title="Drift", icon=":material/history:"),
    st.Page(HERE / "views/retiering.py", title="Re-tiering", icon=":material/flag:"),
    st.Page(HERE / "views/whatif.py", title="What-if", icon=":material/science:"),
]
if visitor.can_write:
    PAGES.append(st.Page(HERE / "views/upload.py", title="Upload", icon=":material/upload:"))

page = st.navigation(PAGES)


def show(page) -> None:
    """The sidebar and the page, or the state that stands in for them."""
    # the file's name only: its full path is for the person who started it (the terminal)
    st.sidebar.caption(
        f"Database: {ui.literal(settings.db.name)}" + (" (read-only)" if settings.read_only else "")
    )
    if visitor.user is None:
        st.sidebar.caption(
            "No sign-in: open to anyone who can reach this address"
            + ("." if settings.read_only else ", and anyone here can flag and upload.")
            + " docs/deploy.md says how to share it with a team."
        )
    else:
        st.sidebar.caption(f"Signed in as {ui.literal(visitor.user)} ({visitor.role})")
        if visitor.how == "oidc":
            st.sidebar.button("Sign out", on_click=st.logout, key="sign-out")

    try:
        options = reads.filter_options()
    except connection.Unavailable as e:
        options = None
        problem = e
    except (ConfigError, StoreError, QueryError) as e:
        options = None
        problem = connection.Unavailable(str(e), kind="error")
    except (duckdb.Error, OSError) as e:  # a damaged file, a full disk
        options = None
        problem = connection.Unavailable(explain(e), kind="error")

    if options is not None and options["attempts"] > 0 and options["first_day"] is not None:
        ui.set_selection(ui.Selection(filters=filters.sidebar(options), options=options))
        try:
            page.run()
        except connection.Unavailable as e:
            ui.unavailable(e)
        except (ConfigError, StoreError, QueryError) as e:
            st.error(ui.literal(ui.without_path(str(e))))
        except (duckdb.Error, OSError) as e:
            if is_store_failure(e):  # a damaged file, a full disk: what to do about it
                st.error(ui.literal(ui.without_path(explain(e))))
            else:  # a query that should not fail: say so, keep the details
                st.error(
                    "A query failed on this page. This is a bug in tierwatch, not in your "
                    "data; please report it with the details below."
                )
                with st.expander("Details"):
                    st.exception(e)
    elif page.url_path == ui.UPLOAD_PAGE and (options is not None or problem.kind == "missing"):
        page.run()  # uploading needs no data yet; the first upload creates the database
    elif options is not None:
        ui.empty_state(
            "The database holds no task logs yet. Load the sample fleet or upload log files."
        )
    else:
        ui.unavailable(problem)


with connection.visit():  # one read-only visit to the store for this whole run, closed at its end
    show(page)
