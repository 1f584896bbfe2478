"""The `tiers` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, format_table
from tierwatch.queries.labels import fleet_label


def _notes(row: dict) -> str:
    notes = ["small sample"] if row["small_sample"] else []
    if row["fails_more_than"]:
        notes.append("fails more than " + ", ".join(row["fails_more_than"]))
    return "; ".join(notes)


def _columns(tier_key: str, with_type: bool) -> list:
    cols = [("task_type", lambda r: r["task_type"])] if with_type else []
    return cols + [
        (tier_key.replace("_", " "), lambda r: r[tier_key]),
        ("tasks", lambda r: r["tasks"]),
        ("first-pass fail", lambda r: fmt_rate(r["first_pass_failure_rate"])),
        ("failure [95% CI]", lambda r: fmt_rate(r["failure_rate"], r["failure_rate_ci"])),
        ("downstream", lambda r: fmt_rate(r["downstream_failure_rate"])),
        ("escalation", lambda r: fmt_rate(r["escalation_rate"])),
        ("notes", _notes),
    ]


def render(result: dict) -> str:
    """The tiers report as text."""
    silent = result.get("fleets_without_downstream") or []
    names = ", ".join(map(fleet_label, silent))
    footer = (
        [f"downstream: not reported by {names}; their tasks count as not failed downstream"]
        if silent
        else []
    )
    return "\n\n".join(
        [
            format_table(
                "Failure by planner-assigned tier",
                _columns("planner_tier", False),
                result["by_planner_tier"],
            ),
            format_table(
                "Failure by task type and planner-assigned tier",
                _columns("planner_tier", True),
                result["by_task_type"],
            ),
            format_table(
                "Failure by executed (first) tier",
                _columns("executed_tier", False),
                result["by_executed_tier"],
            ),
            format_table(
                "Failure by task type and executed (first) tier",
                _columns("executed_tier", True),
                result["by_task_type_executed_tier"],
            ),
            *footer,
        ]
    )
