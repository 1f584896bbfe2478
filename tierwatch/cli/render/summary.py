"""The `summary` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, fmt_usd, format_table
from tierwatch.queries.labels import fleet_label


def _downstream(r: dict) -> str:
    """The downstream line; not a rate where no fleet of the selection reports one."""
    silent = r.get("fleets_without_downstream") or []
    names = ", ".join(map(fleet_label, silent))
    if r["tasks"] and not r["downstream_reported"]:
        return (
            "Downstream failure rate: not reported (no record of "
            f"{names} says whether an output was found wrong downstream: "
            "tierwatch.downstream_failure, or downstream-failure records; docs/metrics.md)"
        )
    line = (
        f"Downstream failure rate: "
        f"{fmt_rate(r['downstream_failure_rate'], r['downstream_failure_rate_ci'])}"
        f"  ({r['downstream_failures']} of {r['tasks']})"
    )
    if silent:
        line += f"\n  not reported by {names}: their tasks count as not failed downstream"
    return line


def render(result: dict) -> str:
    """The summary as text."""
    r = result
    mix = r["tier_mix"]
    lines = [
        f"{r['tasks']} executor tasks of {r['task_types']} task type(s), {r['attempts']} model "
        f"calls over {r['days']} day(s) ({r['first_day']} to {r['last_day']})",
        f"Per day: {r['tasks_per_day'] or 0:.1f} tasks, {r['attempts_per_day'] or 0:.1f} calls, "
        f"{fmt_usd(r['cost_usd_per_day'])} (per month {fmt_usd(r['cost_usd_per_month'])})",
        f"Failure rate:            {fmt_rate(r['failure_rate'], r['failure_rate_ci'])}"
        f"  ({r['failures']} of {r['tasks']})",
        f"First-pass failure rate: "
        f"{fmt_rate(r['first_pass_failure_rate'], r['first_pass_failure_rate_ci'])}"
        f"  ({r['first_pass_failures']} of {r['tasks']})",
        _downstream(r),
        f"Escalation rate:         {fmt_rate(r['escalation_rate'], r['escalation_rate_ci'])}"
        f"  ({r['escalated_tasks']} of {r['tasks']})",
    ]
    if r["small_sample"]:
        lines.append("small sample: fewer than 30 tasks, the intervals above are wide")
    if r["unpriced_attempts"]:
        lines.append(
            f"UNPRICED: {r['unpriced_attempts']} call(s) could not be priced; cost is a lower bound"
        )
    share = [("share", lambda x: fmt_rate(x["share"]))]
    lines += [
        "",
        format_table(
            "Tier mix by planner-assigned tier",
            [("planner_tier", lambda x: x["tier"]), ("tasks", lambda x: x["tasks"])] + share,
            mix["by_planner_tier"],
        ),
        "",
        format_table(
            "Tier mix by executed (first) tier",
            [("executed_tier", lambda x: x["tier"]), ("tasks", lambda x: x["tasks"])] + share,
            mix["by_executed_tier"],
        ),
        "",
        format_table(
            "Executor calls by tier",
            [("tier", lambda x: x["tier"]), ("calls", lambda x: x["attempts"])] + share,
            mix["executor_attempts_by_tier"],
        ),
    ]
    return "\n".join(lines)
