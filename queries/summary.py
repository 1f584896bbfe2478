"""Summary: how much work the fleet did, where it went, how it went and what it cost."""

from __future__ import annotations

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import run
from tierwatch.queries.costs import DAYS_PER_MONTH, realized_spend
from tierwatch.queries.downstream import downstream_reporting
from tierwatch.queries.filters import Filters
from tierwatch.queries.stats import rate_fields, ratio, small_sample

NOT_GIVEN = "(not given)"


def _mix(rows: list[dict], mix: str) -> list[dict]:
    part = [r for r in rows if r["mix"] == mix]
    total = sum(r["n"] for r in part)
    key = "attempts" if mix == "attempts" else "tasks"
    return [{"tier": r["tier"], key: r["n"], "share": ratio(r["n"], total)} for r in part]


# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "attempts",
        "attempts_per_day",
        "cost_usd_per_day",
        "cost_usd_per_month",
        "days",
        "downstream_failure_rate",
        "downstream_failures",
        "escalated_tasks",
        "escalation_rate",
        "executor_attempts",
        "failure_rate",
        "failures",
        "first_pass_failure_rate",
        "first_pass_failures",
        "realized_usd",
        "task_types",
        "tasks",
        "tasks_per_day",
        "tasks_without_planner_tier",
        "unpriced_attempts",
        "usd",
    }
)


def build(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters, **options) -> dict:
    """The summary report (keys in docs/reports.md#summary)."""
    params = filters.params()
    totals = run(con, "routing_summary", params)[0]
    mix = run(con, "tier_mix", params)
    daily = run(con, "daily_activity", params)
    spend = realized_spend(con, filters)
    days = spend["days"]
    tasks = totals["tasks"]
    realized = spend["realized_usd"]
    return {
        "days": days,
        "first_day": spend["first_day"].isoformat() if spend["first_day"] else None,
        "last_day": spend["last_day"].isoformat() if spend["last_day"] else None,
        "tasks": tasks,
        "task_types": totals["task_types"],
        "attempts": spend["attempts"],
        "executor_attempts": totals["executor_attempts"],
        "tasks_per_day": ratio(tasks, days),
        "attempts_per_day": ratio(spend["attempts"], days),
        "tasks_without_planner_tier": totals["tasks_without_planner_tier"],
        "failures": totals["failures"],
        **rate_fields("failure", totals["failures"], tasks),
        "first_pass_failures": totals["first_pass_failures"],
        **rate_fields("first_pass_failure", totals["first_pass_failures"], tasks),
        "downstream_failures": totals["downstream_failures"],
        **rate_fields("downstream_failure", totals["downstream_failures"], tasks),
        **downstream_reporting(con, params),
        "escalated_tasks": totals["escalated_tasks"],
        **rate_fields("escalation", totals["escalated_tasks"], tasks),
        "small_sample": small_sample(tasks),
        "realized_usd": realized,
        "cost_usd_per_day": ratio(realized, days),
        "cost_usd_per_month": None if not days else realized / days * DAYS_PER_MONTH,
        "unpriced_attempts": spend["unpriced_attempts"],
        "tier_mix": {
            "by_planner_tier": _mix(mix, "planner"),
            "by_executed_tier": _mix(mix, "executed"),
            "by_final_tier": _mix(mix, "final"),
            "executor_attempts_by_tier": _mix(mix, "attempts"),
        },
        "daily": [{**r, "day": r["day"].isoformat()} for r in daily],
    }
