"""The `escalations` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, fmt_usd, format_table


def render(result: dict) -> str:
    """The escalations report as text."""
    head = (
        f"{result['escalated_tasks']} of {result['tasks']} tasks escalated "
        f"({fmt_rate(result['escalation_rate'], result['escalation_rate_ci'])}); "
        f"{result['skip_tier_escalations']} skip-tier step(s); superseded attempts cost "
        f"{fmt_usd(result['escalation_cost_usd'])} "
        f"({fmt_rate(result['escalation_tax'])} of spend)"
    )
    paths = ", ".join(f"{p} {n}" for p, n in result["paths"].items()) or "none"
    table = format_table(
        "Escalation hotspots, costliest first",
        [
            ("task_type", lambda r: r["task_type"]),
            ("tasks", lambda r: r["tasks"]),
            (
                "escalation [95% CI]",
                lambda r: fmt_rate(r["escalation_rate"], r["escalation_rate_ci"]),
            ),
            ("retry", lambda r: fmt_rate(r["retry_rate"])),
            ("skip-tier", lambda r: r["skip_tier_escalations"]),
            ("rescue", lambda r: fmt_rate(r["rescue_rate"])),
            ("tax", lambda r: fmt_rate(r["escalation_tax"])),
            ("cost", lambda r: fmt_usd(r["escalation_cost_usd"])),
            ("paths", lambda r: ", ".join(f"{p} {n}" for p, n in r["paths"].items())),
            ("reasons", lambda r: ", ".join(f"{k} {v}" for k, v in r["reasons"].items())),
            ("", lambda r: "small sample" if r["small_sample"] else ""),
        ],
        result["by_task_type"],
    )
    return "\n".join([head, f"Paths: {paths}", "", table])
