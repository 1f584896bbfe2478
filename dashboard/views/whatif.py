"""What-if: edit the routing table in place and see what it would cost and how often it
would fail, beside what was realized; the cost-quality frontier; the optimiser's table and
the exploration plan, to export. The model is queries/whatif.py; this page asks and shows."""

import pandas as pd
import streamlit as st

from tierwatch.dashboard import charts, ui
from tierwatch.queries import whatif
from tierwatch.queries.labels import downstream_caveat, fleet_label

STARTS = {
    "flags": "The routing table (flags applied)",
    "observed": "As the fleet runs now",
    "recommendations": "With every recommended tier move",
    "optimised": "The optimiser's table",
}

st.title("What-if")
st.caption(
    "Change where each task type starts and how high its escalations may go: cost and "
    "failure follow, each with its 95% interval and where its estimate comes from "
    "(observed on that tier, borrowed from other tasks, or unknown). Nothing is stored."
)

sel = ui.selection()
with ui.snapshot() as snap:
    ladder = list(snap.config.ladder)
    optimised = ui.report_or_note(snap, "optimize")
    if optimised is None:
        st.stop()
    frontier = snap.report("frontier")
    start = st.radio(
        "Start from", list(STARTS), format_func=STARTS.get, horizontal=True, key="whatif-start"
    )
    if start == "optimised":
        base = {r["task_type"]: (r["routed_tier"], r["ceiling"]) for r in optimised["table"]}
    else:
        base_result = snap.report("simulate", table=start)
        base = {r["task_type"]: (r["tier"], None) for r in base_result["task_types"]}

    # a link from the Re-tiering page names one move: ?move=TASK_TYPE&to=TIER (not
    # task_type, which the sidebar reads as a filter)
    asked_type = st.query_params.get("move")
    asked_tier = st.query_params.get("to")
    if asked_type in base and asked_tier in ladder:
        base[asked_type] = (asked_tier, None)
        st.info(
            f"Simulating the move of {ui.literal(asked_type)} to {asked_tier} (from the "
            "Re-tiering page)."
        )

    rows = {r["task_type"]: r for r in optimised["task_types"]}
    editor = pd.DataFrame(
        [
            {
                "task type": t,
                "tasks a day": rows[t]["tasks_per_day"] if t in rows else None,
                "runs on": rows[t]["realized_tier"] if t in rows else None,
                "route to": tier,
                "escalate up to": ceiling or ladder[-1],
            }
            for t, (tier, ceiling) in base.items()
        ]
    )
    edited = st.data_editor(
        editor,
        hide_index=True,
        width="stretch",
        disabled=["task type", "tasks a day", "runs on"],
        key=f"whatif-table-{start}-{asked_type}-{asked_tier}",
        column_config={
            "tasks a day": st.column_config.NumberColumn(format="%.1f"),
            "route to": st.column_config.SelectboxColumn(
                options=ladder, required=True, help="The tier the planner sends it to first"
            ),
            "escalate up to": st.column_config.SelectboxColumn(
                options=ladder,
                required=True,
                help="The highest tier a failed stage may escalate to (its ceiling)",
            ),
        },
    )
    table, problems = {}, []
    for r in edited.to_dict("records"):
        tier, ceiling = r["route to"], r["escalate up to"]
        if ladder.index(ceiling) < ladder.index(tier):
            problems.append(r["task type"])
            ceiling = tier
        table[r["task type"]] = whatif.Route(r["task type"], tier, ceiling)
    if problems:
        st.warning(
            "Escalations cannot go below where a task starts; taken as no escalation for: "
            + ", ".join(ui.literal(t) for t in problems)
        )
    result = snap.report("simulate", table=table)

cols = st.columns(4)
delta = (
    None
    if result["usd_per_day"] is None or result["realized_usd_per_day"] is None
    else result["usd_per_day"] - result["realized_usd_per_day"]
)
cols[0].metric(
    "Cost per day",
    ui.usd(result["usd_per_day"]) if result["usd_per_day"] is not None else "unknown",
    None if delta is None else f"{'-' if delta < 0 else '+'}{ui.usd(abs(delta))} against realized",
    delta_color="inverse",
    help="95% interval: " + ui.usd_ci(result["usd_per_day"], result["usd_per_day_ci"]),
)
cols[1].metric(
    "Failure rate",
    ui.rate_ci(result["failure_rate"]).split(" ")[0],
    None
    if result["failure_rate"] is None
    else f"{(result['failure_rate'] - result['realized_failure_rate']) * 100:+.1f} points",
    delta_color="inverse",
    help="Final or downstream failure. 95% interval: "
    + ui.rate_ci(result["failure_rate"], result["failure_rate_ci"]),
)
cols[2].metric(
    "Downstream failures a day",
    "unknown"
    if result["downstream_failures_per_day"] is None
    else f"{result['downstream_failures_per_day']:,.1f}",
    help=f"realized {result['realized_downstream_failures_per_day']:,.1f} a day",
)
cols[3].metric(
    "Failure-adjusted per day",
    ui.usd(result["failure_adjusted_usd_per_day"])
    if result["failure_adjusted_usd_per_day"] is not None
    else "unknown",
    help=f"cost + {ui.usd(result['failure_cost_usd'])} for each downstream failure",
)
if caveat := downstream_caveat(result, name=lambda f: ui.literal(fleet_label(f))):
    st.caption(caveat)
if result["unknown_task_types"]:
    st.warning(
        "No task of any type ever ran where this table sends "
        + ", ".join(ui.literal(t) for t in result["unknown_task_types"])
        + ": their numbers, and so the fleet's totals, are unknown. The exploration plan "
        "below says how to find out."
    )

SOURCE_WORDS = {"observed": "observed", "borrowed": "borrowed in part", "unknown": "unknown"}


def _evidence(row) -> str:
    sources = {e["source"] for e in row["estimates"]}
    return SOURCE_WORDS["unknown" if "unknown" in sources else max(sources, key=len)]


per_type = pd.DataFrame(
    [
        {
            "task type": r["task_type"],
            "route": r["tier"] + ("" if r["ceiling"] == ladder[-1] else f" (up to {r['ceiling']})"),
            "was": r["realized_tier"],
            "cost a day": ui.usd_ci(r["usd_per_day"], r["usd_per_day_ci"]),
            "realized a day": ui.usd(r["realized_usd_per_day"]),
            "failure": ui.rate_ci(r["failure_rate"], r["failure_rate_ci"]),
            "realized failure": ui.rate_ci(r["realized_failure_rate"]),
            "first pass fails": ui.rate_ci(
                r["first_pass_failure_rate"], r["first_pass_failure_rate_ci"]
            ),
            "evidence": _evidence(r),
        }
        for r in result["task_types"]
    ]
)
ui.table(
    per_type,
    "what-if by task type",
    caption="Simulated per task type (95% intervals), beside what the logs show.",
    column_config={
        "evidence": st.column_config.TextColumn(
            help="observed: the type's own tasks on that tier; borrowed: some rate comes "
            "from other tasks (see below); unknown: nothing ever ran there"
        ),
    },
)
with st.expander("Where each estimate comes from"):
    estimates = [
        {"task type": r["task_type"], **e} for r in result["task_types"] for e in r["estimates"]
    ]
    ui.table(
        pd.DataFrame(
            [
                {
                    "task type": e["task type"],
                    "tier": e["tier"],
                    "estimate": e["estimate"],
                    "source": e["source"],
                    "rate": ui.rate_ci(e["rate"], e["rate_ci"]),
                    "basis": e["basis"],
                }
                for e in estimates
            ]
        ),
        "what-if estimates",
    )

st.subheader("Cost against failure")
points = list(frontier["points"])
if result["executor_cost_per_task_usd"] is not None:
    points.append(
        {
            "name": "this table",
            "kind": "proposed",
            "cost_per_task_usd": result["executor_cost_per_task_usd"],
            "failure_rate": result["failure_rate"],
            "failure_rate_ci": result["failure_rate_ci"],
            "known": True,
        }
    )
st.plotly_chart(
    charts.frontier(points, ladder, "Every one-tier fleet, the routings and the oracle"),
    width="stretch",
)
ui.table(
    pd.DataFrame(
        [
            {
                "": p["name"],
                "cost per task": ui.usd(p["cost_per_task_usd"])
                if p["cost_per_task_usd"] is not None
                else "unknown",
                "failure": ui.rate_ci(p["failure_rate"], p.get("failure_rate_ci")),
                "gap recovered": "" if p["gap_recovered"] is None else f"{p['gap_recovered']:.1%}",
                "AIQ": "" if p["aiq"] is None else f"{p['aiq']:.3f}",
                "note": p.get("note", ""),
            }
            for p in frontier["points"]
        ]
    ),
    "frontier",
    caption=f"Gap recovered: the share of the failure gap between "
    f"{frontier['cheapest_one_tier']} and the oracle a routing closes (RouteLLM's PGR); AIQ: "
    "the area under the frontier with the routing added (RouterBench). The oracle runs each "
    "task once where its chain succeeded: it knows only the tiers the chains tried.",
    column_config={
        "gap recovered": st.column_config.TextColumn(
            help="The share of the cheapest one-tier fleet's failure gap to the oracle closed"
        ),
        "AIQ": st.column_config.TextColumn(
            help="Area under the cost-quality frontier with this routing added (1 = perfect)"
        ),
    },
)

st.subheader("The optimiser's table")
saving = optimised["saving_usd_per_day"]
st.markdown(
    f"Each task type on the start tier of least cost plus {ui.usd(optimised['failure_cost_usd'])} "
    f"per downstream failure, among the tiers with at least "
    f"{optimised['settings']['min_evidence_tasks']:.0f} of its tasks. "
    + (
        ""
        if saving is None
        else f"Against the table as run: {ui.usd(abs(saving))} a day "
        f"{'less' if saving >= 0 else 'more'} in calls, "
        f"{ui.rate_ci(optimised['failure_rate'])} of tasks failing instead of "
        f"{ui.rate_ci(optimised['current']['failure_rate'])}."
    )
)
st.caption("tierwatch optimize --max-failure-rate RATE gives the cheapest table under a bound.")
moves = [r for r in optimised["task_types"] if r["changed"]]
if moves:
    ui.table(
        pd.DataFrame(
            [
                {
                    "task type": r["task_type"],
                    "from": r["realized_tier"],
                    "to": r["tier"],
                    "cost a day": ui.usd_ci(r["usd_per_day"], r["usd_per_day_ci"]),
                    "failure": ui.rate_ci(r["failure_rate"], r["failure_rate_ci"]),
                }
                for r in moves
            ]
        ),
        "optimiser moves",
    )
else:
    st.text("No move the evidence supports pays: the table as run is the optimiser's.")

st.subheader("Exploration plan")
plan = optimised["exploration"]
if not plan:
    st.text("No missing evidence could change the table.")
else:
    st.caption(
        "Moves the evidence cannot support yet but that could pay: how many tasks to run "
        "there, for how long, at what cost."
    )
    ui.table(
        pd.DataFrame(
            [
                {
                    "task type": e["task_type"],
                    "move": f"{e['from_tier']} → {e['to_tier']}",
                    "estimate": ui.rate_ci(
                        e["expected_failure_rate"], e["expected_failure_rate_ci"]
                    )
                    + f" ({e['estimate']})",
                    "up to a day": e["saving_usd_per_day_at_best"],
                    "tasks": e["tasks_needed"],
                    "send": "every task" if e["one_in"] == 1 else f"1 in {e['one_in']}",
                    "until": e["until"],
                    "calls cost": e["cost_usd"],
                    "why this many": e["sized_by"],
                }
                for e in plan
            ]
        ),
        "exploration plan",
        column_config={
            "up to a day": st.column_config.NumberColumn(
                format="dollar", help="The saving a day if the tier does as well as it may"
            ),
            "calls cost": st.column_config.NumberColumn(format="dollar"),
        },
    )
    heuristics = "\n".join(f"- {h}" for h in optimised["heuristics"])
    st.code(heuristics, language=None, wrap_lines=True)
    st.download_button(
        "Download the plan as planner heuristics",
        heuristics + "\n",
        file_name="tierwatch-exploration.txt",
        mime="text/plain",
    )

st.subheader("Export")
left, middle, right = st.columns(3)
records = whatif.table_records(table)
for column, fmt, mime in ((left, "yaml", "text/yaml"), (middle, "json", "application/json"),
                          (right, "csv", "text/csv")):  # fmt: skip
    column.download_button(
        f"This table as {fmt.upper()}",
        whatif.write_table(records, fmt),
        file_name=f"routing-table.{fmt}",
        mime=mime,
        key=f"whatif-export-{fmt}",
    )
st.caption("tierwatch simulate --table routing-table.yaml simulates it from a terminal.")
st.download_button(
    "The optimiser's table, with its exploration moves, as YAML",
    whatif.write_table(optimised["table"], "yaml"),
    file_name="routing-table-optimised.yaml",
    mime="text/yaml",
)
