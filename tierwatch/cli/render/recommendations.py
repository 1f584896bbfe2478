"""The `recommendations` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_usd, format_table
from tierwatch.queries.labels import downstream_caveat


def _impact(usd: float | None) -> str:
    if usd is None:
        return "not estimated"
    return f"saves {fmt_usd(-usd)}" if usd < 0 else f"costs {fmt_usd(usd)} more"


def render(result: dict) -> str:
    """Recommendations as text: one block per recommendation."""
    recs = result["recommendations"]
    table = format_table(
        f"Re-tiering recommendations over {result['settings']['days']} day(s) "
        f"(calls + ${result['settings']['failure_cost_usd']:g} per failure)",
        [
            ("task_type", lambda r: r["task_type"]),
            ("action", lambda r: r["action"]),
            (
                "tiers",
                lambda r: f"{r['from_tier']} -> {r['to_tier']}" if r["to_tier"] else r["from_tier"],
            ),  # fmt: skip
            ("per month", lambda r: _impact(r["monthly_usd_impact"])),
            ("", lambda r: "small sample" if r["small_sample"] else ""),
        ],
        recs,
    )
    caveat = downstream_caveat(result)
    if caveat:
        table += "\n" + caveat
    if not recs:
        return table + "\n\nNo task type needs re-tiering on this evidence."
    details = []
    for r in recs:
        lines = [f"- {r['task_type']} / {r['action']}: {r['reason']}."]
        lines += [f"    note: {n}" for n in r["notes"]]
        details.append("\n".join(lines))
    return table + "\n\n" + "\n".join(details)
