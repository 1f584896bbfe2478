"""Planner tiers: does the planner's tier choice hold up? Failure by planner-assigned tier,
per task type, and by the tier that actually ran (failure mode 4, planner overconfidence)."""

import streamlit as st

from tierwatch.dashboard import charts, ui
from tierwatch.queries.labels import fleet_label

st.title("Planner tiers")
st.caption(
    "If tasks the planner sends to a cheap tier fail far more than the same task types sent "
    "higher, the planner under-routes them. Whiskers are 95% Wilson intervals."
)
with ui.snapshot() as snap:
    tiers = ui.report_or_note(snap, "tiers")
    ladder = list(snap.config.ladder)
if tiers is None:
    st.stop()

if all(r.get("planner_tier") in (None, "(not given)") for r in tiers["by_planner_tier"]):
    st.info(
        "No task in this selection says which tier the planner assigned, so failure by "
        "planner tier cannot be told. OpenTelemetry traces carry it only when the fleet adds "
        "`tierwatch.planner.tier` to its spans (or maps its own attribute in tierwatch.toml): "
        "docs/sources.md shows the ten lines.",
        icon=":material/info:",
    )

order = ladder + ["(not given)"]
left, right = st.columns(2)
left.plotly_chart(
    charts.rate_bars(
        tiers["by_planner_tier"],
        "planner_tier",
        "Failure rate by planner-assigned tier",
        order=order,
    ),
    width="stretch",
)
if tiers.get("by_executed_tier"):
    key = "executed_tier" if "executed_tier" in tiers["by_executed_tier"][0] else "tier"
    right.plotly_chart(
        charts.rate_bars(
            tiers["by_executed_tier"], key, "Failure rate by executed (first) tier", order=order
        ),
        width="stretch",
    )
st.caption(charts.SMALL_SAMPLE_NOTE)

if tiers.get("by_task_type"):
    st.plotly_chart(
        charts.heatmap(
            tiers["by_task_type"],
            "planner_tier",
            "task_type",
            "Failure rate by task type and planner tier (n = tasks)",
            x_order=order,
        ),
        width="stretch",
    )

st.subheader("By planner-assigned tier")
if tiers.get("fleets_without_downstream"):
    silent = ", ".join(ui.literal(fleet_label(f)) for f in tiers["fleets_without_downstream"])
    st.caption(
        f"Downstream rates: not reported by {silent} (no record says whether an output was "
        "found wrong downstream); their tasks count as not failed downstream."
    )
ui.table(ui.records(tiers["by_planner_tier"]), "failure by planner tier")
st.subheader("By task type and planner-assigned tier")
ui.table(ui.records(tiers["by_task_type"]), "failure by task type and planner tier")
if tiers.get("by_executed_tier"):
    st.subheader("By executed (first) tier")
    ui.table(ui.records(tiers["by_executed_tier"]), "failure by executed tier")
