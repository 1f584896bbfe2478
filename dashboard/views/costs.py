"""Costs: realized spend against running every task on one tier, over time and per task
type, with prices and the cost of a downstream failure editable as a what-if."""

import pandas as pd
import streamlit as st

from tierwatch.dashboard import charts, connection, ui
from tierwatch.queries import costs as cost_steps
from tierwatch.queries import pricing

st.title("Costs")
st.caption(
    "Counterfactual all-T: every executor task as one call on tier T with its last attempt's "
    "tokens. Planner and reviewer calls are routing overhead, counted in realized spend."
)

base = connection.config()

with st.expander("What if prices were different? (changes nothing stored)"):
    st.caption(
        "Edit the per-million-token prices of each tier and the cost of one downstream "
        "failure; every number on this page follows. Calls that logged their own cost_usd "
        "keep it, and model-specific prices from the config still apply on their dates."
    )
    prices = pd.DataFrame(
        [
            {
                "tier": t.name,
                "input $/Mtok": t.price.input_usd_per_mtok,
                "output $/Mtok": t.price.output_usd_per_mtok,
                "cached input $/Mtok": t.price.cached_input_usd_per_mtok,
            }
            for t in base.tiers
        ]
    )
    edited = st.data_editor(
        prices,
        hide_index=True,
        disabled=["tier"],
        key="whatif-prices",
        column_config={
            c: st.column_config.NumberColumn(min_value=0.0, format="%.2f")
            for c in prices.columns
            if c != "tier"
        },
    )
    failure_cost = st.number_input(
        "Cost of one downstream failure (USD)",
        min_value=0.0,
        value=float(base.failure_cost_usd),
        step=10.0,
        key="whatif-failure-cost",
    )

whatif = pricing.with_prices(
    base,
    {
        row["tier"]: tuple(
            0.0 if v is None or pd.isna(v) else float(v)
            for v in (row["input $/Mtok"], row["output $/Mtok"], row["cached input $/Mtok"])
        )
        for row in edited.to_dict("records")
    },
    failure_cost,
)
changed = (whatif.tiers, whatif.settings) != (base.tiers, base.settings)
if changed:
    st.info("Showing a what-if: edited prices or failure cost (nothing is stored).")

with ui.snapshot(whatif if changed else base) as snap:
    costs = ui.report_or_note(snap, "costs")
    if costs is None:
        st.stop()
    spend = snap.frame("dashboard_daily_spend", priced=True)
    counterfactual = snap.frame("dashboard_daily_counterfactual", priced=True)
ladder = list(base.ladder)
top = ladder[-1]

if costs.get("unpriced_attempts"):
    st.warning(
        f"{costs['unpriced_attempts']:,} calls could not be priced: the realized cost "
        "is a lower bound."
    )

cols = st.columns(4)
cols[0].metric("Realized per day", ui.usd(costs["realized_usd_per_day"]))
cols[1].metric("Realized per month", ui.usd(costs["realized_usd_per_month"]))
cols[2].metric("Cost per successful task", ui.usd(costs.get("cost_per_successful_task_usd")))
cols[3].metric(
    "Failure-adjusted per day",
    ui.usd(costs.get("failure_adjusted_usd_per_day")),
    help=f"realized + {ui.usd(costs.get('failure_cost_usd'))} for each of "
    f"{costs.get('downstream_failures', 0):,} downstream failures",
)

strategies = cost_steps.strategies(costs, ladder)

left, right = st.columns(2)
if not spend.empty:
    left.plotly_chart(
        charts.waterfall(
            cost_steps.waterfall(costs, spend.to_dict("records"), top),
            "realized",
            f"From all-{top} to realized, over the selection (USD)",
        ),
        width="stretch",
    )
right.plotly_chart(
    charts.strategy_bars(strategies, ladder, "Cost per day by strategy (USD)"), width="stretch"
)

if not spend.empty and not counterfactual.empty:
    realized = spend.groupby("day", as_index=False)["cost_usd"].sum()
    wide = counterfactual.pivot_table(index="day", columns="tier", values="counterfactual_usd")
    wide = wide.reset_index().merge(realized, on="day", how="outer").fillna(0)
    series = {t: f"all-{t}" for t in ladder} | {"cost_usd": "realized"}
    st.plotly_chart(
        charts.lines(
            wide,
            "day",
            series,
            "Realized against every one-tier fleet, per day (USD)",
            y_title="USD",
        ),
        width="stretch",
    )

ui.table(pd.DataFrame(strategies).drop(columns="tier"), "cost by strategy")
prices_used = pd.DataFrame(pricing.tier_prices(whatif if changed else base)).fillna("")
st.caption(
    "Each all-T strategy prices every call at tier T's price: the price of the model named "
    "(a named ladder's representative), from the source shown. Calls of the realized "
    "spend are priced by their own model where the config or the price library knows it."
)
st.dataframe(
    prices_used,
    hide_index=True,
    width="stretch",
    column_order=[
        "tier",
        "representative",
        "input_usd_per_mtok",
        "output_usd_per_mtok",
        "cached_input_usd_per_mtok",
        "price_from",
    ],
    column_config={
        "tier": "Tier",
        "representative": st.column_config.TextColumn(
            "Priced as", help="The model whose price is the tier's; blank: the config's own"
        ),
        "input_usd_per_mtok": st.column_config.NumberColumn("Input $/Mtok", format="$%.2f"),
        "output_usd_per_mtok": st.column_config.NumberColumn("Output $/Mtok", format="$%.2f"),
        "cached_input_usd_per_mtok": st.column_config.NumberColumn(
            "Cached input $/Mtok", format="$%.3f"
        ),
        "price_from": "Price from",
    },
)
st.subheader("Per task type")
ui.table(ui.records(costs["by_task_type"]), "cost by task type")
overhead = costs.get("overhead_usd") or {}
st.caption(
    "Routing overhead: "
    + ", ".join(f"{role} {ui.usd(v)}" for role, v in overhead.items())
    + (
        f" ({ui.pct(costs.get('overhead_share'))} of realized)"
        if costs.get("overhead_share") is not None
        else ""
    )
)
