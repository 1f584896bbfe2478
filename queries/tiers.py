"""Failure by tier: do tasks the planner sent to a cheap tier fail more than those it sent
higher, overall and within each task type (failure mode 4, planner overconfidence)?"""

from __future__ import annotations

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import run
from tierwatch.queries.downstream import downstream_reporting
from tierwatch.queries.filters import Filters
from tierwatch.queries.stats import rate_fields, small_sample

RATES = (
    ("first_pass_failure", "first_pass_failures"),
    ("failure", "failures"),
    ("downstream_failure", "downstream_failures"),
    ("escalation", "escalated_tasks"),
)


def _row(r: dict, tier_key: str) -> dict:
    row = {tier_key: r["tier"]}
    if r["per_task_type"]:
        row["task_type"] = r["task_type"]
    row["tasks"] = r["tasks"]
    for rate, count in RATES:
        row[count] = r[count]
        row.update(rate_fields(rate, r[count], r["tasks"]))
    row["small_sample"] = small_sample(r["tasks"])
    return row


def _mark_worse(rows: list[dict], tier_key: str, ranks: dict[str, int]) -> None:
    """Each row's `fails_more_than`: the higher tiers of the same task type whose failure
    interval lies wholly below this row's (the intervals do not overlap)."""
    for row in rows:
        rank = ranks.get(row[tier_key])
        row["fails_more_than"] = [
            other[tier_key]
            for other in rows
            if other.get("task_type") == row.get("task_type")
            and rank is not None
            and ranks.get(other[tier_key], -1) > rank
            and other["failure_rate_ci"][1] < row["failure_rate_ci"][0]
        ]


# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "downstream_failure_rate",
        "downstream_failures",
        "escalated_tasks",
        "escalation_rate",
        "failure_rate",
        "failures",
        "first_pass_failure_rate",
        "first_pass_failures",
        "tasks",
    }
)


def build(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters, **options) -> dict:
    """The tiers report (keys in docs/reports.md#tiers)."""
    params = filters.params()
    rows = run(con, "failure_by_planner_tier", params)
    ranks = {name: rank for rank, name in enumerate(config.ladder, start=1)}
    result = downstream_reporting(con, params)
    for by, key in (("planner_tier", "planner_tier"), ("executed_tier", "executed_tier")):
        overall = [_row(r, key) for r in rows if r["grouped_by"] == by and not r["per_task_type"]]
        per_type = [_row(r, key) for r in rows if r["grouped_by"] == by and r["per_task_type"]]
        _mark_worse(overall, key, ranks)
        _mark_worse(per_type, key, ranks)
        if by == "planner_tier":
            result["by_planner_tier"] = overall
            result["by_task_type"] = per_type
        else:
            result["by_executed_tier"] = overall
            result["by_task_type_executed_tier"] = per_type
    return result
