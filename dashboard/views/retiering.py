"""Re-tiering: the recommendations with their evidence, flags on task types (set, clear,
history), and the resulting routing table to export or paste into a planner's prompt."""

import getpass

import pandas as pd
import streamlit as st

from tierwatch.dashboard import access, ui, writes
from tierwatch.ingest.flags import FlagError
from tierwatch.queries import routing_table as rt
from tierwatch.queries.labels import downstream_caveat, fleet_label

REASONS = [
    "tier_up",
    "tier_down_candidate",
    "fix_escalation_path",
    "rebaseline",
    "recalibrate_confidence",
    "other",
]

st.title("Re-tiering")
sel = ui.selection()

flash = st.session_state.pop("retiering-flash", None)
if flash:
    st.success(ui.literal(flash))

with ui.snapshot() as snap:
    recs = ui.optional_report(snap, "recommendations")
    current = snap.current_flags()
    history = snap.flag_history()
    routes = snap.routing()
    ladder = list(snap.config.ladder)

st.subheader("Recommendations")
if isinstance(recs, str):
    st.info(recs)
else:
    rows = recs.get("recommendations", [])
    if not rows:
        st.info("No task type needs re-tiering on this evidence.")
    ui.table(
        ui.records(rows),
        "recommendations",
        caption="Each with its evidence (counts, rates, 95% intervals) and the estimated "
        "monthly cost change; small samples say so.",
    )
    if caveat := downstream_caveat(recs, name=lambda f: ui.literal(fleet_label(f))):
        st.caption(caveat)
    moves = [r for r in rows if r.get("to_tier") in ladder]
    if moves:
        with st.expander(
            f"Simulate a move ({len(moves)}): its cost and failure on the What-if page"
        ):
            for r in moves:
                st.page_link(
                    "views/whatif.py",
                    label=f"{ui.literal(r['task_type'])}: {r['from_tier']} → {r['to_tier']} "
                    f"({r['action'].replace('_', ' ')})",
                    icon=":material/science:",
                    query_params={"move": r["task_type"], "to": r["to_tier"]},
                )


def _who_default() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return ""


signed_in = access.signed_in_user()
if ui.can_write():
    st.subheader("Flag a task type for re-tiering")
    if "flag-who" not in st.session_state:
        st.session_state["flag-who"] = _who_default()
    movable = [
        r
        for r in (recs.get("recommendations", []) if isinstance(recs, dict) else [])
        if r.get("to_tier") in ladder and r["task_type"] in sel.options["task_types"]
    ]
    if movable:

        def _prefill() -> None:
            choice = st.session_state.get("flag-from-rec")
            if choice is None:
                return
            r = movable[choice]
            st.session_state["flag-task-type"] = r["task_type"]
            st.session_state["flag-target"] = r["to_tier"]
            st.session_state["flag-reason"] = r["action"] if r["action"] in REASONS else "other"

        st.selectbox(
            "Start from a recommendation (optional)",
            range(len(movable)),
            index=None,
            format_func=lambda i: (
                f"{movable[i]['task_type']}: {movable[i]['action']} "
                f"{movable[i]['from_tier']} → {movable[i]['to_tier']}"
            ),
            key="flag-from-rec",
            on_change=_prefill,
            placeholder="Pick one to fill in the form",
        )
    with st.form("flag-form", clear_on_submit=False):
        cols = st.columns([3, 1, 2])
        task_type = cols[0].selectbox("Task type", sel.options["task_types"], key="flag-task-type")
        target = cols[1].selectbox("Target tier", ladder, key="flag-target")
        reason = cols[2].selectbox("Reason", REASONS, key="flag-reason")
        note = st.text_area("Note (free text)", key="flag-note", max_chars=2000)
        if signed_in:  # the flag is signed by who signed in, not by a name typed here
            who = signed_in
            st.caption(f"Signed as {ui.literal(signed_in)}")
        else:
            who = st.text_input("Your name", key="flag-who")
        submitted = st.form_submit_button("Flag", type="primary")
    if submitted:
        try:
            writes.set_flag(task_type, target, who=who, reason=reason, note=note)
        except FlagError as e:
            st.error(ui.literal(str(e)))
        else:
            st.session_state["retiering-flash"] = f"Flagged {task_type!r} for {target}."
            st.rerun()

st.subheader("Flagged now")
if not current:
    st.text("No task type is flagged.")
for name, f in current.items():
    cols = st.columns([5, 1])
    with cols[0]:
        st.text(
            f"{name} → {f.target_tier}  ({f.reason or 'no reason given'}; "
            f"by {f.flagged_by}, {f.flagged_at:%Y-%m-%d %H:%M} UTC)"
        )
        if f.note:
            st.text(f.note)
    if ui.can_write() and cols[1].button("Unflag", key=f"unflag-{f.flag_id}"):
        try:
            writes.clear_flag(name, who=st.session_state.get("flag-who") or _who_default(), note="")
        except FlagError as e:
            st.error(ui.literal(str(e)))
        else:
            st.session_state["retiering-flash"] = f"Cleared the flag on {name!r}."
            st.rerun()

with st.expander(f"Flag history ({len(history)} changes)"):
    ui.table(
        pd.DataFrame([vars(e) for e in history]),
        "flag history",
        caption="Every flag and unflag, newest first: who, when, what.",
    )

st.subheader("The resulting routing table")
st.caption(
    "Per task type in the selection: the tier the planner assigned most often, unless a "
    "flag moves it."
)
ui.table(pd.DataFrame(rt.to_records(routes)), "routing table")
cols = st.columns(3)
cols[0].download_button(
    "Download YAML",
    rt.to_yaml(routes).encode("utf-8"),
    file_name="routing-table.yaml",
    mime="application/yaml",
    key="export-yaml",
)
cols[1].download_button(
    "Download JSON",
    rt.to_json(routes).encode("utf-8"),
    file_name="routing-table.json",
    mime="application/json",
    key="export-json",
)
cols[2].download_button(
    "Download heuristics (text)",
    rt.to_heuristics(routes, tuple(ladder)).encode("utf-8"),
    file_name="routing-heuristics.txt",
    mime="text/plain",
    key="export-heuristics",
)
st.caption("Routing heuristics to paste into the planner's system prompt:")
st.code(rt.to_heuristics(routes, tuple(ladder)), language=None)
