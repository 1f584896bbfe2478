"""Drift and staleness (failure mode 1): which model versions each tier ran, how each task
type did before and after a tier's model changed, and how old the evidence behind each task
type's routing is.

Definitions (docs/metrics.md, "Drift and staleness"):
- a tier's model change: its dominant model (the one that ran most of its executor attempts
  on a day) switches to one that had not been dominant before; `at` is the first such day;
- before / after: tasks assigned to the tier (planner tier, else first executed tier) from the
  previous change up to `at`, and from `at` up to the next change; each rate has its Wilson
  95% interval, and `separated` says the two intervals do not overlap;
- `significant`: the intervals still do not overlap when widened for the number of
  comparisons made at that change (task types x METRICS, Bonferroni: z for 5% / comparisons,
  two-sided). Many task types compared at once would otherwise find a "change" by chance;
  `changed`, `worse`, `better` and the rebaseline recommendation use `significant`;
- evidence age: days from a task type's newest task on its routed tier to the newest task day
  of the selection; stale when older than `stale_after_days`, or when the routed tier's model
  changed after the evidence began and fewer than MIN_TASKS_ON_NEW_MODEL tasks of the type
  have run on the new model since.
"""

from __future__ import annotations

import datetime as dt
from statistics import NormalDist

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import run
from tierwatch.queries.filters import Filters
from tierwatch.queries.stats import SMALL_SAMPLE, rate_fields, small_sample, wilson

MIN_TASKS_ON_NEW_MODEL = SMALL_SAMPLE  # evidence on a new model version is enough from here
FAMILY_ALPHA = 0.05  # the chance of any false "change" among one change's comparisons
PRICED = False  # reads no spend: build_report does not register the prices
METRICS = ("failure", "first_pass_failure", "escalation")
_COUNTS = {
    "failure": "failures",
    "first_pass_failure": "first_pass_failures",
    "escalation": "escalated",
}


def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def _side(row: dict, side: str) -> dict:
    n = row[f"{side}_tasks"]
    out = {"tasks": n}
    for metric in METRICS:
        count = row[f"{side}_{_COUNTS[metric]}"]
        out[f"{metric}s" if metric != "escalation" else "escalated"] = count
        out.update(rate_fields(metric, count, n))
    out["small_sample"] = small_sample(n)
    return out


def _separated(before: dict, after: dict, metric: str, z: float | None = None) -> bool:
    """The before and after intervals of `metric` do not overlap (95%, or at `z`)."""
    if not before["tasks"] or not after["tasks"]:
        return False
    count = "escalated" if metric == "escalation" else f"{metric}s"
    if z is None:
        b_low, b_high = before[f"{metric}_rate_ci"]
        a_low, a_high = after[f"{metric}_rate_ci"]
    else:
        b_low, b_high = wilson(before[count], before["tasks"], z)
        a_low, a_high = wilson(after[count], after["tasks"], z)
    return b_high < a_low or a_high < b_low


def family_z(comparisons: int) -> float:
    """z of a two-sided interval with FAMILY_ALPHA shared among `comparisons` (Bonferroni)."""
    return NormalDist().inv_cdf(1 - FAMILY_ALPHA / (2 * max(comparisons, 1)))


def compare(row: dict, z: float) -> dict:
    """One task type's before/after comparison around a model change; `z` is the change's
    family-wise z (family_z)."""
    before, after = _side(row, "before"), _side(row, "after")
    separated = {m: _separated(before, after, m) for m in METRICS}
    significant = {m: _separated(before, after, m, z) for m in METRICS}
    worse = [m for m in METRICS if significant[m] and after[f"{m}_rate"] > before[f"{m}_rate"]]
    better = [m for m in METRICS if significant[m] and after[f"{m}_rate"] < before[f"{m}_rate"]]
    return {
        "task_type": row["task_type"],
        "before": before,
        "after": after,
        "separated": separated,
        "significant": significant,
        "changed": any(significant.values()),
        "worse": worse,
        "better": better,
        "small_sample": before["small_sample"] or after["small_sample"],
    }


def model_changes(versions: list[dict], comparisons: list[dict]) -> list[dict]:
    """Each tier's dominant models in order of dominance; consecutive pairs are changes."""
    rows_by_change: dict[tuple, list[dict]] = {}
    for row in comparisons:
        key = (row["tier"], row["from_model"], row["to_model"], row["at"])
        rows_by_change.setdefault(key, []).append(row)
    by_change: dict[tuple, list[dict]] = {}
    z_by_change: dict[tuple, float] = {}
    for key, rows in rows_by_change.items():
        compared = sum(1 for r in rows if r["before_tasks"] and r["after_tasks"])
        z_by_change[key] = family_z(compared * len(METRICS))
        by_change[key] = [compare(r, z_by_change[key]) for r in rows]
    changes = []
    tiers: dict[str, list[dict]] = {}
    for v in versions:
        if v["dominant_since"] is not None:
            tiers.setdefault(v["tier"], []).append(v)
    for tier, models in tiers.items():
        models.sort(key=lambda v: (v["dominant_since"], v["model"]))
        for old, new in zip(models, models[1:], strict=False):
            at = new["dominant_since"]
            changes.append(
                {
                    "tier": tier,
                    "from_model": old["model"],
                    "to_model": new["model"],
                    "at": _iso(at),
                    "family_z": z_by_change.get((tier, old["model"], new["model"], at)),
                    "by_task_type": by_change.get((tier, old["model"], new["model"], at), []),
                }
            )
    changes.sort(key=lambda c: (c["at"], c["tier"]))
    return changes


def evidence(rows: list[dict], stale_after_days: float) -> list[dict]:
    """Each task type's routing evidence with its age and stale flag."""
    out = []
    for r in rows:
        age = (r["as_of"] - r["evidence_last_day"]).days
        since = r["current_model_since"]
        version_changed = since is not None and since > r["evidence_first_day"]
        reasons = []
        if age > stale_after_days:
            reasons.append(f"newest observation is {age} days old (> {stale_after_days:g})")
        if version_changed and r["tasks_on_current_model"] < MIN_TASKS_ON_NEW_MODEL:
            reasons.append(
                f"{r['routed_tier']} changed to {r['current_model']} on {since}; only "
                f"{r['tasks_on_current_model']} tasks since (< {MIN_TASKS_ON_NEW_MODEL})"
            )
        baseline_last = r["baseline_last_day"]
        out.append(
            {
                "task_type": r["task_type"],
                "routed_tier": r["routed_tier"],
                "evidence_tasks": r["evidence_tasks"],
                "evidence_first_day": _iso(r["evidence_first_day"]),
                "evidence_last_day": _iso(r["evidence_last_day"]),
                "as_of": _iso(r["as_of"]),
                "evidence_age_days": age,
                "current_model": r["current_model"],
                "current_model_since": _iso(since),
                "tasks_on_current_model": r["tasks_on_current_model"],
                "version_changed_since_evidence": version_changed,
                "baseline_tier": r["baseline_tier"],
                "baseline_tasks": r["baseline_tasks"],
                "baseline_last_day": _iso(baseline_last),
                "baseline_age_days": (r["as_of"] - baseline_last).days if baseline_last else None,
                "stale": bool(reasons),
                "stale_reasons": reasons,
            }
        )
    return out


# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "attempts",
        "baseline_tasks",
        "evidence_age_days",
        "evidence_tasks",
        "family_z",
        "share",
        "tasks_on_current_model",
    }
)


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters,
    stale_after_days: float | None = None,
    **options,
) -> dict:
    """Model versions, model changes with before/after rates, and routing evidence age."""
    params = filters.params()
    stale_after = (
        config.setting("stale_after_days") if stale_after_days is None else stale_after_days
    )
    versions = run(con, "model_versions", params)
    comparisons = run(con, "drift_before_after", params)
    return {
        "settings": {
            "stale_after_days": stale_after,
            "min_tasks_on_new_model": MIN_TASKS_ON_NEW_MODEL,
        },
        "model_versions": [
            {
                "tier": v["tier"],
                "model": v["model"],
                "first_day": _iso(v["first_day"]),
                "last_day": _iso(v["last_day"]),
                "attempts": v["attempts"],
                "share": v["share"],
                "dominant_since": _iso(v["dominant_since"]),
            }
            for v in versions
        ],
        "model_changes": model_changes(versions, comparisons),
        "evidence": evidence(run(con, "routing_evidence_age", params), stale_after),
    }
