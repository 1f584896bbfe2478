"""Overview: volume, cost, failure and escalation, savings against each one-tier fleet, and
whether routing pays off here at all."""

import pandas as pd
import streamlit as st

from tierwatch.dashboard import charts, ui
from tierwatch.queries import labels

st.title("Overview")
with ui.snapshot() as snap:
    summary = ui.report_or_note(snap, "summary")
    if summary is None:
        st.stop()
    costs = snap.report("costs")
    verdict = ui.optional_report(snap, "verdict")
    daily_tiers = snap.frame("dashboard_daily_tasks")
    rates = snap.frame("task_rates_per_period", period="day", by_first_tier=False)
    ladder = snap.config.ladder

st.caption(
    f"{summary['tasks']:,} tasks of {summary['task_types']} task types, "
    f"{summary['attempts']:,} model calls, {summary['first_day']} to {summary['last_day']} "
    f"({summary['days']} days)"
)
if summary.get("unpriced_attempts"):
    st.warning(
        f"{summary['unpriced_attempts']:,} calls could not be priced (no cost logged, no price "
        "for their model or tier): the costs below are lower bounds."
    )

if isinstance(verdict, dict):
    if verdict["route"]:
        st.success(
            "Routing pays off here: every condition the article names is met "
            "(details at the bottom)."
        )
    else:
        unmet = [labels.condition_title(c["name"]) for c in verdict["conditions"] if not c["met"]]
        st.warning(
            "Routing may not pay off here; not met: "
            + ", ".join(unmet)
            + " (details at the bottom)."
        )

cols = st.columns(5)
cols[0].metric("Tasks per day", f"{summary['tasks_per_day']:,.0f}")
cols[1].metric("Cost per day", ui.usd(summary["cost_usd_per_day"]))
cols[2].metric("Cost per month", ui.usd(summary["cost_usd_per_month"]), help="per day × 30")
cols[3].metric(
    "Failure rate",
    ui.pct(summary["failure_rate"]),
    help=f"{summary['failures']:,} of {summary['tasks']:,} tasks; "
    + ui.ci(summary.get("failure_rate_ci")),
)
cols[4].metric(
    "Escalation rate",
    ui.pct(summary["escalation_rate"]),
    help=f"{summary['escalated_tasks']:,} of {summary['tasks']:,} tasks; "
    + ui.ci(summary.get("escalation_rate_ci")),
)

if not costs.get("empty"):
    st.subheader("What routing saves against running every task on one tier")
    cols = st.columns(len(ladder))
    for col, tier in zip(cols, ladder, strict=True):
        saving = costs["savings_vs"].get(tier)
        per_month = (costs.get("savings_usd_per_month_vs") or {}).get(tier)
        if saving is None:
            value = "–"
        elif saving >= 0:
            value = f"saves {saving:.1%}"
        else:
            value = f"costs {-saving:.0%} more"
        col.metric(
            f"Routed vs all-{tier}",
            value,
            delta=None
            if per_month is None
            else (f"{ui.usd(abs(per_month))} a month " + ("saved" if per_month >= 0 else "more")),
            delta_color="normal" if (per_month or 0) >= 0 else "inverse",
            help=f"all-{tier} would cost {ui.usd(costs['counterfactual_usd_per_day'][tier])} "
            f"a day; realized {ui.usd(costs['realized_usd_per_day'])} a day",
        )

daily = pd.DataFrame(summary.get("daily") or [])
left, right = st.columns(2)
if not daily.empty:
    daily["day"] = pd.to_datetime(daily["day"])
    left.plotly_chart(
        charts.lines(daily, "day", {"tasks": "tasks"}, "Tasks per day", y_title="tasks"),
        width="stretch",
    )
    right.plotly_chart(
        charts.lines(daily, "day", {"usd": "realized cost"}, "Cost per day (USD)", y_title="USD"),
        width="stretch",
    )
if not daily_tiers.empty:
    st.plotly_chart(
        charts.stacked_area(
            daily_tiers,
            "day",
            "tasks",
            "planner_tier",
            "Tier mix over time: share of tasks by planner-assigned tier",
            order=list(ladder),
            percent=True,
        ),
        width="stretch",
    )
    st.plotly_chart(
        charts.lines(
            rates,
            "period",
            {"failure_rate": "failure rate", "escalation_rate": "escalation rate"},
            "Failure and escalation rate per day",
            y_format=".0%",
        ),
        width="stretch",
    )

st.subheader("Does routing pay off here?")
if isinstance(verdict, str):
    st.info(verdict)
else:
    conditions = pd.DataFrame(
        {
            "Condition": labels.condition_title(c["name"]),
            "Met": c["met"],
            "Value": labels.condition_value(c),
            "Needs": labels.condition_threshold(c),
            "How": c["detail"],
        }
        for c in verdict["conditions"]
    )
    ui.table(
        conditions,
        "verdict conditions",
        column_config={"Met": st.column_config.CheckboxColumn("Met")},
        caption="The article's conditions for routing to pay off (tierwatch report verdict).",
    )
