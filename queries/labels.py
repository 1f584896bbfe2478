"""What each report key is called for people, and what the non-obvious ones mean: one list
the dashboard's tables (dashboard/columns.py) and the CLI read, so a number has the same
name wherever it is shown. The JSON keys themselves (docs/reports.md) do not change.
"""

from __future__ import annotations

LABELS: dict[str, str] = {
    "strategy": "Strategy",
    "usd": "Total",
    "usd_per_day": "Per day",
    "usd_per_month": "Per month",
    "routing_saves": "Routing saves",
    "task_type": "Task type",
    "tier": "Tier",
    "planner_tier": "Planner tier",
    "executed_tier": "Executed tier",
    "first_tier": "First tier",
    "final_tier": "Final tier",
    "from_tier": "From",
    "to_tier": "To",
    "routed_tier": "Route to",
    "observed_tier": "Runs on",
    "fleet": "Fleet",
    "model": "Model",
    "from_model": "From model",
    "to_model": "To model",
    "tasks": "Tasks",
    "attempts": "Calls",
    "failures": "Failures",
    "failure_rate": "Failure rate",
    "first_pass_failures": "First-pass failures",
    "first_pass_failure_rate": "First-pass failure",
    "escalated": "Escalated",
    "escalated_tasks": "Escalated tasks",
    "escalation_rate": "Escalation rate",
    "escalations": "Escalation steps",
    "escalation_tax": "Escalation tax",
    "retries": "Retries",
    "skip_tier_escalations": "Skip-tier steps",
    "downstream_failures": "Downstream failures",
    "downstream_failure_rate": "Downstream failure",
    "silent_failures": "Silent failures",
    "small_sample": "Small sample",
    "realized_usd": "Realized",
    "realized_usd_per_day": "Realized per day",
    "realized_usd_per_month": "Realized per month",
    "overhead_usd": "Routing overhead",
    "cost_per_successful_task_usd": "Cost per successful task",
    "failure_adjusted_usd": "Failure-adjusted",
    "monthly_usd_impact": "Monthly impact",
    "unpriced_attempts": "Unpriced calls",
    "action": "Action",
    "reason": "Why",
    "notes": "Notes",
    "last_day": "Last day",
    "first_day": "First day",
    "source": "Source",
    "flag_reason": "Flag reason",
    "flag_note": "Flag note",
    "flagged_by": "Flagged by",
    "flagged_at": "Flagged at",
    "confidence_source": "Confidence source",
    "ece": "ECE",
    "brier": "Brier",
    "auroc": "AUROC",
    "high_share": "Share said high",
    "saturated": "Saturated",
    "count": "Count",
    "rate": "Rate",
    "share": "Share",
    "paths": "Escalation paths",
    "met": "Met",
    "value": "Value",
    "threshold": "Threshold",
    "detail": "Detail",
    "name": "Condition",
}

HELP: dict[str, str] = {
    "failure_rate": "Share of tasks whose last attempt was not accepted or that were found "
    "wrong downstream (docs/metrics.md)",
    "first_pass_failure_rate": "Share of tasks whose first attempt was not accepted",
    "escalation_rate": "Share of tasks that moved to a higher tier at least once",
    "escalation_tax": "Spend on attempts a later attempt of the same task superseded, as a "
    "share of executor spend",
    "small_sample": "Fewer than 30 tasks: read the interval, not the point",
    "savings_vs": "1 - realized / running every task on that tier",
    "routing_saves": "1 - realized / that strategy; negative: routing costs more than it",
    "ece": "Expected calibration error: the gap between stated confidence and success, "
    "lower is better",
    "brier": "Mean squared error of confidence as a probability of success, lower is better",
    "auroc": "How well confidence tells successes from failures: 0.5 a coin toss, 1 perfect",
    "saturated": "Nearly every answer says high: confidence cannot trigger escalation",
    "monthly_usd_impact": "The estimated change in monthly cost; negative is a saving",
    "skip_tier_escalations": "Escalation steps that jump two or more rungs at once",
    "downstream_failures": "Accepted answers found wrong later, by a downstream check",
    "overhead_usd": "Planner and reviewer calls",
}

_WORDS = {"usd": "$", "ci": "interval", "vs": "vs", "id": "ID", "pct": "%", "mtok": "Mtok"}


def label_for(key: str) -> str:
    """The label of a report key: LABELS, else the key in words; a nested key
    (`counterfactual_usd.haiku`, as the dashboard flattens it) as `Counterfactual $: haiku`."""
    if key in LABELS:
        return LABELS[key]
    head, _, tail = key.rpartition(".")
    if head:
        return f"{label_for(head)}: {tail}"
    words = [_WORDS.get(w, w) for w in key.split("_") if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def fleet_label(fleet: str | None) -> str:
    """A fleet as people read it: a null fleet (records that name none) as `(no fleet)`."""
    return "(no fleet)" if fleet is None else fleet


def fmt_usd(value: float | None) -> str:
    """Dollars in the sentences the reports write (and the command line's tables)."""
    if value is None:
        return "–"
    return f"${value:,.2f}" if abs(value) >= 0.1 or value == 0 else f"${value:,.4f}"


def downstream_caveat(result: dict, name=fleet_label) -> str | None:
    """What a simulation's downstream figures leave out, when some fleet of the selection
    never says whether an output was found wrong downstream (`fleets_without_downstream`),
    or None when every fleet does. `name` writes a fleet (the dashboard escapes it)."""
    silent = result.get("fleets_without_downstream") or []
    if not silent:
        return None
    if not result.get("downstream_reported"):
        return (
            "Downstream: no fleet of the selection reports whether an output was found wrong "
            "downstream (tierwatch.downstream_failure, or downstream-failure records; "
            "docs/metrics.md), so the downstream figures are zero for want of reports, and "
            "the failure rates count only what review caught."
        )
    return (
        f"Downstream: not reported by {', '.join(map(name, silent))}; their tasks count as "
        "not failed downstream, so the downstream figures and failure rates leave theirs out."
    )


# the verdict report's conditions (queries/verdict.py), as people read them
CONDITION_TITLES = {
    "volume": "Enough tasks a day",
    "heterogeneous": "Task types need different tiers",
    "quality_signal_outcome": "Outcomes are checked",
    "quality_signal_confidence": "Confidence is logged",
    "saving": "Routing saves enough",
}


def condition_title(name: str) -> str:
    return CONDITION_TITLES.get(name, label_for(name))


def condition_value(c: dict) -> str:
    """A verdict condition's value with its unit."""
    v = c["value"]
    if v is None:
        return "–"
    if c["name"] == "saving":
        return fmt_usd(v)
    if c["name"].startswith("quality"):
        return f"{v:.1%}"
    return f"{v:,.1f}" if isinstance(v, float) else str(v)


def condition_threshold(c: dict) -> str:
    """What a verdict condition's value must pass, with its unit."""
    t = c["threshold"]
    if c["name"] == "saving":
        return f"> {fmt_usd(t)}/month"
    if c["name"].startswith("quality"):
        return f">= {t:.0%}"
    if c["name"] == "heterogeneous":
        return f">= {t} tiers"
    return f"> {t:g}/day"
