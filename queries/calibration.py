"""Confidence calibration (failure mode 2): does an executor's stated confidence mean what it
says, per executed tier and confidence source, and which task types fail silently?

Success of an executor attempt: its status is ok and, for the task's accepted (last) attempt,
no downstream failure was reported. The numbers (docs/metrics.md, "Confidence calibration"):
- reliability bins: ten bins of width 0.1 with the observed success rate and its interval;
- ECE: sum over bins of (bin attempts / attempts) x |mean confidence - success rate|;
- Brier: mean of (confidence - success)^2, success being 1 or 0;
- AUROC: the chance a failed attempt states a lower confidence than a successful one (ties
  count one half); null when a group has no failure or no success;
- saturated: at least SATURATED_SHARE of the confidences are >= HIGH_CONFIDENCE, so the
  signal cannot tell tasks apart whatever its AUROC says.
"""

from __future__ import annotations

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import materialize, run
from tierwatch.queries.filters import Filters
from tierwatch.queries.stats import rate_fields, ratio, small_sample, wilson

HIGH_CONFIDENCE = 0.8  # the same threshold as a silent failure's "high confidence"
SATURATED_SHARE = 0.9  # saturated when at least this share of confidences is high
EXAMPLES = 3  # example task ids per task type with silent failures
PRICED = False  # reads no spend: build_report does not register the prices


def _bins(rows: list[dict]) -> list[dict]:
    return [
        {
            "bin_low": r["bin_low"],
            "bin_high": r["bin_high"],
            "attempts": r["attempts"],
            "successes": r["successes"],
            "mean_confidence": r["mean_confidence"],
            **rate_fields("success", r["successes"], r["attempts"]),
            "gap": r["mean_confidence"] - r["successes"] / r["attempts"],
            "small_sample": small_sample(r["attempts"]),
        }
        for r in rows
    ]


def _ece(bins: list[dict], attempts: int) -> float:
    return sum(b["attempts"] / attempts * abs(b["gap"]) for b in bins)


# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "attempts",
        "attempts_without_confidence",
        "auroc",
        "brier",
        "count",
        "ece",
        "failures",
        "high_confidence_accepted",
        "high_share",
        "mean_confidence",
        "rate",
        "share_of_high_confidence",
        "success_rate",
        "successes",
        "tasks",
    }
)


def build(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters, **options) -> dict:
    """Calibration per tier x confidence source and silent failures per task type."""
    params = filters.params()
    # the selection's outcomes per confidence value, once; both results below read them
    materialize(con, "confidence_outcomes", params)
    bins_by_group: dict[tuple[str, str], list[dict]] = {}
    for r in run(con, "confidence_reliability", params):
        bins_by_group.setdefault((r["tier"], r["confidence_source"]), []).append(r)

    by_tier = []
    for r in run(con, "confidence_scores", params):
        bins = _bins(bins_by_group.get((r["tier"], r["confidence_source"]), []))
        by_tier.append(
            {
                "tier": r["tier"],
                "confidence_source": r["confidence_source"],
                "attempts": r["attempts"],
                "attempts_without_confidence": r["attempts_without_confidence"],
                "successes": r["successes"],
                "failures": r["failures"],
                "mean_confidence": r["mean_confidence"],
                **rate_fields("success", r["successes"], r["attempts"]),
                "ece": _ece(bins, r["attempts"]),
                "brier": r["brier"],
                "auroc": r["auroc"],
                "high_share": r["high_share"],
                "saturated": r["high_share"] >= SATURATED_SHARE,
                "small_sample": small_sample(r["attempts"]),
                "bins": bins,
            }
        )

    silent = []
    for r in run(con, "silent_failures_by_task_type", params):
        silent.append(
            {
                "task_type": r["task_type"],
                "tasks": r["tasks"],
                "high_confidence_accepted": r["high_confidence_accepted"],
                "count": r["silent_failures"],
                "rate": ratio(r["silent_failures"], r["tasks"]),
                "rate_ci": list(wilson(r["silent_failures"], r["tasks"])),
                "share_of_high_confidence": ratio(
                    r["silent_failures"], r["high_confidence_accepted"]
                ),
                "by_final_tier": dict(r["by_final_tier"] or {}),
                "example_task_ids": list(r["example_task_ids"] or [])[:EXAMPLES],
                "small_sample": small_sample(r["tasks"]),
            }
        )

    return {
        "thresholds": {
            "high_confidence": HIGH_CONFIDENCE,
            "saturated_share": SATURATED_SHARE,
            "bins": 10,
        },
        "by_tier": by_tier,
        "silent_failures": silent,
    }
