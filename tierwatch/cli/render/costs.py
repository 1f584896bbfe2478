"""The `costs` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, fmt_usd, format_table
from tierwatch.queries import costs


def render(result: dict) -> str:
    """The costs report as text: the strategy table, overhead and the task types."""
    days = result["days"]
    ladder = list(result["counterfactual_usd"])
    strategies = costs.strategies(result, ladder)
    out = [
        f"Cost over {days} day(s) ({result['first_day']} to {result['last_day']}), "
        f"{result['tasks']} executor tasks, {result['attempts']} calls",
        "",
        format_table(
            "Realized vs every task as one call on one tier",
            [
                ("strategy", lambda r: r["strategy"]),
                ("total", lambda r: fmt_usd(r["usd"])),
                ("per day", lambda r: fmt_usd(r["usd_per_day"])),
                ("per month", lambda r: fmt_usd(r["usd_per_month"])),
                (
                    "routing saves",
                    lambda r: "" if r["tier"] is None else fmt_rate(r["routing_saves"]),
                ),
            ],
            strategies,
        ),
        "",
        f"Routing overhead: planner {fmt_usd(result['overhead_usd']['planner'])}, reviewer "
        f"{fmt_usd(result['overhead_usd']['reviewer'])} "
        f"({fmt_rate(result['overhead_share'])} of realized spend)",
        f"Cost per successful task: {fmt_usd(result['cost_per_successful_task_usd'])}; "
        f"with {result['downstream_failures']} downstream failure(s) at "
        f"{fmt_usd(result['failure_cost_usd'])} each: "
        f"{fmt_usd(result['failure_adjusted_usd'])} "
        f"({fmt_usd(result['failure_adjusted_usd_per_day'])} per day)",
    ]
    if result["unpriced_attempts"]:
        out.append(
            f"UNPRICED: {result['unpriced_attempts']} call(s) could not be priced (no cost_usd and "
            "no price for their tier or model); realized spend leaves them out, so it is a lower "
            "bound. Add their tier or model to the config's prices."
        )
    out += [
        "",
        format_table(
            "By task type (realized, per day, and the saving against each tier)",
            [
                ("task_type", lambda r: r["task_type"]),
                ("tasks", lambda r: r["tasks"]),
                ("realized", lambda r: fmt_usd(r["realized_usd"])),
                ("per day", lambda r: fmt_usd(r["realized_usd_per_day"])),
            ]
            + [
                (f"vs {tier}", lambda r, tier=tier: fmt_rate(r["savings_vs"][tier]))
                for tier in ladder
            ],
            result["by_task_type"],
        ),
    ]
    return "\n".join(out)
