"""Drift: has a model update moved a tier's failure or escalation rate, and how old is the
evidence behind each task type's routing (failure mode 1, routing table staleness)."""

import pandas as pd
import streamlit as st

from tierwatch.dashboard import charts, ui


def _rate_lines(rows: pd.DataFrame, title: str):
    """Failure and escalation rate per period (rows of task_rates_per_period), as lines."""
    return charts.lines(
        rows,
        "period",
        {"failure_rate": "failure rate", "escalation_rate": "escalation rate"},
        title,
        y_format=".0%",
    )


st.title("Drift")
st.caption(
    "Treat each routing decision as a hypothesis: after a model version changes, compare "
    "before and after per task type, and re-run baselines when the evidence is old."
)
with ui.snapshot() as snap:
    drift = ui.report_or_note(snap, "drift")
    if drift is None:
        st.stop()
    ladder = list(snap.config.ladder)

changes = drift.get("model_changes", [])
if changes:
    st.warning(
        f"{len(changes)} model version change(s) in this selection: "
        + "; ".join(
            f"{c['tier']}: {ui.literal(c['from_model'])} → {ui.literal(c['to_model'])} on {c['at']}"
            for c in changes
        )
    )

granularity = st.radio(
    "Points per", ["day", "week"], index=1, horizontal=True, key="drift-granularity"
)
with ui.snapshot() as snap:  # the same visit to the store as above
    rates = snap.frame("task_rates_per_period", period=granularity, by_first_tier=True)
    # the task types whose rates moved with a version change, each on its own
    moved = {
        (c["tier"], r["task_type"]): snap.frame(
            "task_rates_per_period",
            task_types=[r["task_type"]],
            period=granularity,
            by_first_tier=True,
        )
        for c in drift.get("model_changes", [])
        for r in c.get("by_task_type", [])
        if r.get("changed")
    }

if not rates.empty:
    for tier in [t for t in ladder if t in set(rates["first_tier"])]:
        fig = _rate_lines(
            rates[rates["first_tier"] == tier],
            f"Tasks first run on {tier}: failure and escalation per {granularity}",
        )
        marks = [(c["at"], f"{c['to_model']}") for c in changes if c["tier"] == tier]
        st.plotly_chart(charts.with_marks(fig, marks), width="stretch", key=f"drift-{tier}")

for c in changes:
    st.subheader(
        f"{c['tier']}: {ui.literal(c['from_model'])} → {ui.literal(c['to_model'])} (from {c['at']})"
    )
    for (tier, task_type), frame in moved.items():
        part = frame[frame["first_tier"] == tier]
        if tier != c["tier"] or part.empty:
            continue
        fig = _rate_lines(
            part, f"{charts.label(task_type)} on {tier}: its rates moved with the change"
        )
        st.plotly_chart(
            charts.with_marks(fig, [(c["at"], c["to_model"])]),
            width="stretch",
            key=f"drift-moved-{tier}-{task_type}-{c['at']}",
        )
    ui.table(
        ui.records(c.get("by_task_type")),
        f"before and after {c['tier']} {c['at']}",
        caption="Per task type, before and after the change, with 95% intervals.",
    )

st.subheader("Model versions seen")
ui.table(ui.records(drift.get("model_versions")), "model versions")
st.subheader("Age of the evidence behind each task type's routing")
ui.table(ui.records(drift.get("evidence")), "routing evidence age")
