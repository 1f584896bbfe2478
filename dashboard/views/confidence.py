"""Confidence: can the executors' stated confidence be trusted to trigger escalation?
Reliability per tier, ECE / Brier / AUROC, and silent failures (failure mode 2)."""

import pandas as pd
import streamlit as st

from tierwatch.dashboard import charts, ui

st.title("Confidence")
st.caption(
    "A well-calibrated executor that says 0.9 succeeds 9 times in 10. Points under the "
    "diagonal are overconfidence; a silent failure is an `ok` answer given with high "
    "confidence and found wrong downstream."
)
with ui.snapshot() as snap:
    cal = ui.report_or_note(snap, "calibration")
    if cal is None:
        st.stop()
    examples = snap.frame("dashboard_silent_failure_examples", per_task_type=5)

groups = cal["by_tier"]
for g in groups:
    g["name"] = f"{g['tier']} ({g['confidence_source']})"
saturated = [g["name"] for g in groups if g.get("saturated")]
if saturated:
    st.warning(
        "Confidence is saturated (nearly every answer says high) for "
        + ", ".join(ui.literal(name) for name in saturated)
        + ": it cannot tell good answers from bad ones, so it cannot trigger escalation."
    )

left, right = st.columns([3, 2])
left.plotly_chart(
    charts.reliability(groups, "Reliability per executed tier and source"), width="stretch"
)
scores = pd.DataFrame(
    [
        {
            "tier": g["tier"],
            "source": g["confidence_source"],
            "attempts": g["attempts"],
            "ECE": g.get("ece"),
            "Brier": g.get("brier"),
            "AUROC": g.get("auroc"),
            "high share": g.get("high_share"),
            "saturated": g.get("saturated"),
            "small sample": g.get("small_sample"),
        }
        for g in groups
    ]
)
with right:
    st.caption(
        "ECE and Brier: lower is better. AUROC of confidence as a predictor of success: "
        "0.5 is a coin toss, 1.0 perfect."
    )
    ui.table(scores.round(3), "calibration scores")

st.subheader("Silent failures by task type")
silent = [s for s in cal.get("silent_failures", []) if s.get("count")]
if silent:
    st.plotly_chart(
        charts.rate_bars(
            silent,
            "task_type",
            "Silent failures per task (share of its tasks)",
            rate="rate",
            count="tasks",
        ),
        width="stretch",
    )
ui.table(ui.records(silent), "silent failures by task type")
st.subheader("Examples to look at")
st.caption("The latest silent failures of each task type (up to 5 each).")
ui.table(examples, "silent failure examples")
