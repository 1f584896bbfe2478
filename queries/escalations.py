"""Escalation hotspots: which task types climb the ladder, how (retry, graduated step or
skip-tier jump), why, whether escalation rescues them, and what it costs (failure mode 3)."""

from __future__ import annotations

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import run
from tierwatch.queries.filters import Filters
from tierwatch.queries.stats import rate_fields, ratio, small_sample

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
    params = filters.params()
    hotspots = run(con, "escalation_hotspots", params)
    steps = run(con, "escalation_paths", params)
    logged_reasons = run(con, "escalation_reasons", params)
    tax = {r["task_type"]: r for r in run(con, "escalation_tax", {**params, "grain": "task_type"})}

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
    all_reasons: dict[str, int] = {}
    for r in by_task_type:
        for path, n in r["paths"].items():
            all_paths[path] = all_paths.get(path, 0) + n
        for reason, n in r["reasons"].items():
            all_reasons[reason] = all_reasons.get(reason, 0) + n
    return {
        "tasks": tasks,
        "escalated_tasks": escalated,
        **rate_fields("escalation", escalated, tasks),
        "skip_tier_escalations": sum(r["skip_tier_escalations"] for r in by_task_type),
        "paths": dict(sorted(all_paths.items(), key=lambda kv: -kv[1])),
        "reasons": dict(sorted(all_reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        "escalation_cost_usd": superseded,
        "escalation_tax": ratio(superseded, spend_total),
        "by_task_type": by_task_type,
    }
