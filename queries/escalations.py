"""Escalation hotspots: which task types climb the ladder, how (retry, graduated step or
skip-tier jump), why, whether escalation rescues them, and what it costs (failure mode 3)."""

from __future__ import annotations

import duckdb

from ingest.config import Config
from queries import ensure_table, pricing, run
from queries.filters import Filters
from queries.report import fmt_rate, fmt_usd, format_table
from queries.stats import rate_fields, ratio, small_sample

# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "escalated_tasks",
        "escalation_cost_usd",
        "escalation_rate",
        "escalation_tax",
        "escalations",
        "rescue_rate",
        "rescued_tasks",
        "retried_tasks",
        "retries",
        "retry_rate",
        "skip_tier_escalations",
        "skip_tier_tasks",
        "spend_usd",
        "step_downs",
        "superseded_attempts",
        "tasks",
    }
)


def build(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters, **options) -> dict:
    """The escalations report (keys in docs/reports.md#escalations)."""
    ensure_table(con, "task_rollup")
    ensure_table(con, "escalation_step_rollup")
    ensure_table(con, "escalation_reason_rollup")
    pricing.ensure_superseded_spend(con)
    params = filters.params()
    hotspots = run(con, "escalation_hotspots", params)
    steps = run(con, "escalation_paths", params)
    logged_reasons = run(con, "escalation_reasons", params)
    tax = {r["task_type"]: r for r in run(con, "escalation_tax", params)}

    paths: dict[str, dict[str, int]] = {}
    for s in steps:
        by_path = paths.setdefault(s["task_type"], {})
        by_path[f"{s['from_tier']}->{s['to_tier']}"] = s["steps"]
    reasons: dict[str, dict[str, int]] = {}
    for r in logged_reasons:
        reasons.setdefault(r["task_type"], {})[r["reason"]] = r["attempts"]

    by_task_type = []
    for h in hotspots:
        name, tasks = h["task_type"], h["tasks"]
        spend = tax.get(name, {"spend_usd": 0.0, "superseded_usd": 0.0, "superseded_attempts": 0})
        by_task_type.append(
            {
                "task_type": name,
                "tasks": tasks,
                "escalated_tasks": h["escalated_tasks"],
                **rate_fields("escalation", h["escalated_tasks"], tasks),
                "retried_tasks": h["retried_tasks"],
                **rate_fields("retry", h["retried_tasks"], tasks),
                "escalations": h["escalations"],
                "retries": h["retries"],
                "skip_tier_escalations": h["skip_tier_escalations"],
                "skip_tier_tasks": h["skip_tier_tasks"],
                "step_downs": h["step_downs"],
                "paths": dict(sorted(paths.get(name, {}).items(), key=lambda kv: -kv[1])),
                "reasons": dict(sorted(reasons.get(name, {}).items(), key=lambda kv: -kv[1])),
                "rescued_tasks": h["rescued_tasks"],
                **rate_fields("rescue", h["rescued_tasks"], h["escalated_tasks"]),
                "superseded_attempts": spend["superseded_attempts"],
                "escalation_cost_usd": spend["superseded_usd"],
                "spend_usd": spend["spend_usd"],
                "escalation_tax": ratio(spend["superseded_usd"], spend["spend_usd"]),
                "small_sample": small_sample(tasks),
            }
        )
    by_task_type.sort(
        key=lambda r: (-r["escalation_cost_usd"], -r["escalated_tasks"], r["task_type"])
    )

    tasks = sum(r["tasks"] for r in by_task_type)
    escalated = sum(r["escalated_tasks"] for r in by_task_type)
    superseded = sum(r["escalation_cost_usd"] for r in by_task_type)
    spend_total = sum((r["spend_usd"] for r in tax.values()), 0.0)
    all_paths: dict[str, int] = {}
    for r in by_task_type:
        for path, n in r["paths"].items():
            all_paths[path] = all_paths.get(path, 0) + n
    return {
        "tasks": tasks,
        "escalated_tasks": escalated,
        **rate_fields("escalation", escalated, tasks),
        "skip_tier_escalations": sum(r["skip_tier_escalations"] for r in by_task_type),
        "paths": dict(sorted(all_paths.items(), key=lambda kv: -kv[1])),
        "escalation_cost_usd": superseded,
        "escalation_tax": ratio(superseded, spend_total),
        "by_task_type": by_task_type,
    }


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
