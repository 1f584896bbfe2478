"""Costs: realized spend against running every task on one tier, over time and per task
type, with prices and the cost of a downstream failure editable as a what-if."""

import dataclasses

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from tierwatch.dashboard import charts, connection, ui
from tierwatch.ingest.config import Price
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

tiers = []
for t, row in zip(base.tiers, edited.to_dict("records"), strict=True):
    values = [row["input $/Mtok"], row["output $/Mtok"], row["cached input $/Mtok"]]
    values = [float(v) if v is not None and not pd.isna(v) else 0.0 for v in values]
    tiers.append(dataclasses.replace(t, price=Price(*values)))
whatif = dataclasses.replace(
    base,
    tiers=tuple(tiers),
    settings={**base.settings, "failure_cost_usd": failure_cost},
    source=f"{base.source} with what-if prices",
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

strategies = pd.DataFrame(
    [
        {
            "strategy": f"all-{t}",
            "per day": costs["counterfactual_usd_per_day"][t],
            "per month": (costs.get("counterfactual_usd_per_month") or {}).get(t),
            "routing saves": ui.pct(costs["savings_vs"][t]),
        }
        for t in ladder
    ]
    + [
        {
            "strategy": "realized (routed)",
            "per day": costs["realized_usd_per_day"],
            "per month": costs["realized_usd_per_month"],
            "routing saves": "",
        }
    ]
)

left, right = st.columns(2)
if not spend.empty:
    parts = spend.groupby("part")["cost_usd"].sum().to_dict()
    final = parts.get("final", 0.0)
    start = costs["counterfactual_usd"][top]
    steps = [
        (f"all-{top}", start),
        ("last attempts on the tiers the planner chose", final - start),
        ("superseded attempts (retries, escalations)", parts.get("superseded", 0.0)),
        ("planner calls", parts.get("planner", 0.0)),
        ("reviewer calls", parts.get("reviewer", 0.0)),
    ]
    left.plotly_chart(
        charts.waterfall(
            steps, "realized", f"From all-{top} to realized, over the selection (USD)"
        ),
        width="stretch",
    )
right.plotly_chart(
    go.Figure(
        go.Bar(
            x=strategies["strategy"],
            y=strategies["per day"],
            text=[ui.usd(v) for v in strategies["per day"]],
            textposition="outside",
            marker={
                "color": [
                    charts.tier_colors(ladder).get(s.removeprefix("all-"), "#333")
                    for s in strategies["strategy"]
                ]
            },
        )
    ).update_layout(
        title="Cost per day by strategy (USD)",
        height=420,
        margin={"l": 10, "r": 10, "t": 50, "b": 10},
    ),
    width="stretch",
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

ui.table(
    strategies,
    "cost by strategy",
    column_config={
        "per day": st.column_config.NumberColumn(format="dollar"),
        "per month": st.column_config.NumberColumn(format="dollar"),
        "routing saves": st.column_config.TextColumn(
            help="1 - realized / that strategy; negative: routing costs more than it"
        ),
    },
)
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
