"""Escalations: where escalation piles up and what it costs (failure mode 3, cascade
over-routing), with the steps that skip a tier drawn red."""

from collections import Counter

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
    daily = snap.frame("dashboard_daily_spend", priced=True)
    ladder = list(snap.config.ladder)
if esc is None:
    st.stop()

rows = esc["by_task_type"]
paths = Counter()
for r in rows:
    paths.update(r.get("paths") or {})
skip_steps = sum(r.get("skip_tier_escalations") or 0 for r in rows)
cols = st.columns(3)
cols[0].metric("Escalation steps", f"{sum(paths.values()):,}")
cols[1].metric("Steps that skip a tier", f"{skip_steps:,}")
tax = esc.get("escalation_tax")
cols[2].metric(
    "Escalation tax",
    ui.pct(tax) if isinstance(tax, float) else "–",
    help="spend on executor attempts a later attempt superseded ÷ all spend",
)

left, right = st.columns([3, 2])
if paths:
    left.plotly_chart(
        charts.sankey(dict(paths), ladder, "Escalation steps between tiers"),
        width="stretch",
    )
    left.caption("Grey: one rung up. Red: a step that skips a tier.")
else:
    left.info("No escalations in this selection.")

if not daily.empty:
    # as the report's escalation tax: superseded executor spend / all spend (every role)
    by_day = daily.pivot_table(
        index="day", columns="part", values="cost_usd", aggfunc="sum", fill_value=0
    )
    total = by_day.sum(axis=1)
    superseded = by_day["superseded"] if "superseded" in by_day else 0.0
    by_day["escalation tax"] = (superseded / total).where(total > 0)
    by_day = by_day.reset_index()
    right.plotly_chart(
        charts.lines(
            by_day,
            "day",
            {"escalation tax": "escalation tax"},
            "Escalation tax per day",
            y_format=".0%",
        ),
        width="stretch",
    )

st.subheader("Hotspots, ranked by what escalation costs")
ui.table(ui.records(rows), "escalation hotspots")

reasons = esc.get("reasons")
if reasons is None:
    counted = Counter()
    for r in rows:
        counted.update(r.get("reasons") or {})
    reasons = [{"reason": k, "escalations": v} for k, v in counted.most_common()]
if reasons:
    st.subheader("Why tasks escalated")
    ui.table(
        pd.DataFrame(reasons) if isinstance(reasons, list) else ui.records([reasons]),
        "escalation reasons",
    )
