"""Escalations: where escalation piles up and what it costs (failure mode 3, cascade
over-routing), with the steps that skip a tier drawn red."""

import pandas as pd
import streamlit as st

from tierwatch.dashboard import charts, ui

st.title("Escalations")
st.caption(
    "A high escalation rate on a task type says its tier assignment is wrong, not that "
    "escalation works. Escalate one tier at a time: a step that skips a tier (red) pays the "
    "top tier for what the next tier up might have fixed."
)
with ui.snapshot() as snap:
    esc = ui.report_or_note(snap, "escalations")
    daily = snap.frame("escalation_tax", priced=True, grain="day")
    ladder = list(snap.config.ladder)
if esc is None:
    st.stop()

paths = esc["paths"]
cols = st.columns(3)
cols[0].metric("Escalation steps", f"{sum(paths.values()):,}")
cols[1].metric("Steps that skip a tier", f"{esc['skip_tier_escalations']:,}")
cols[2].metric(
    "Escalation tax",
    ui.pct(esc["escalation_tax"]),
    help="spend on executor attempts a later attempt superseded ÷ all spend",
)

left, right = st.columns([3, 2])
if paths:
    left.plotly_chart(
        charts.sankey(paths, ladder, "Escalation steps between tiers"),
        width="stretch",
    )
    left.caption("Grey: one rung up. Red: a step that skips a tier.")
else:
    left.info("No escalations in this selection.")

if not daily.empty:
    right.plotly_chart(
        charts.lines(
            daily,
            "day",
            {"escalation_tax": "escalation tax"},
            "Escalation tax per day",
            y_format=".0%",
        ),
        width="stretch",
    )

st.subheader("Hotspots, ranked by what escalation costs")
ui.table(ui.records(esc["by_task_type"]), "escalation hotspots")

if esc["reasons"]:
    st.subheader("Why tasks escalated")
    ui.table(
        pd.DataFrame([{"reason": k, "escalations": v} for k, v in esc["reasons"].items()]),
        "escalation reasons",
    )
