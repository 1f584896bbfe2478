"""Re-tiering recommendations: per task type, zero or more of tier_up, tier_down_candidate,
fix_escalation_path, rebaseline and recalibrate_confidence, each with its evidence and the
estimated change in monthly cost. The rules are stated in docs/metrics.md
("Recommendations"); in short:

- Expected cost per task when a task type is sent to tier T first (the cascade):
      E(T) = c(T) + g(T) * c(T+1) + f(T) * failure_cost_usd
  c = one call of the task type's tokens priced at a tier, g = escalation rate, f = failure
  rate (last attempt not ok, or found wrong downstream). With no failure cost this is the
  article's break-even: starting on T beats starting on T+1 only while T's success rate
  1 - g(T) exceeds c(T) / c(T+1).
- tier_up T -> U: even with T's rates at the low ends of their 95% intervals and U's at the
  high ends, E(T) > E(U). Without tasks of the type sent to U, on spend alone.
- tier_down_candidate U -> L: with L's rates at their high ends and U's at their low ends,
  E(L) < E(U). Without tasks of the type sent to L: only when U never struggles with it (its
  quality-failure rate is below QUALITY_FAILURE_CEILING at the interval's high end), and then
  it says "run a baseline on the lower tier" and prices nothing.
- fix_escalation_path: escalations that skip a rung are a real share of the type's escalated
  tasks (interval low end above SKIP_SHARE_FLOOR).
- rebaseline: the tier's model changed and the type's failure or first-pass failure intervals
  before and after separate even widened for the number of task types compared (family-wise
  5%, queries.drift); or its routing evidence is stale.
- recalibrate_confidence: most of the answers found wrong downstream had said high confidence
  (interval low end above MISSED_SHARE_FLOOR): a low-confidence review cannot catch them.
"""

from __future__ import annotations

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import drift, run
from tierwatch.queries.costs import DAYS_PER_MONTH, realized_spend
from tierwatch.queries.downstream import downstream_reporting
from tierwatch.queries.filters import Filters
from tierwatch.queries.labels import fmt_usd
from tierwatch.queries.stats import SMALL_SAMPLE, ratio, small_sample, wilson

ACTIONS = (
    "tier_up",
    "tier_down_candidate",
    "fix_escalation_path",
    "rebaseline",
    "recalibrate_confidence",
)
QUALITY_FAILURE_CEILING = 0.02  # "never struggles": fewer than 1 in 50 at the interval's top
SKIP_SHARE_FLOOR = 0.10  # skip-tier escalations are more than 1 in 10 escalated tasks
MISSED_SHARE_FLOOR = 0.50  # most wrong answers said high confidence


def _rate(count: int, n: int) -> dict:
    low, high = wilson(count, n)
    return {"count": count, "of": n, "rate": ratio(count, n), "ci": [low, high]}


class _Context:
    """What every rule needs: unit costs, volumes, the failure cost."""

    def __init__(self, con, config: Config, filters: Filters) -> None:
        params = filters.params()
        self.config = config
        self.ladder = list(config.ladder)
        self.failure_cost = config.failure_cost_usd
        self.days = realized_spend(con, filters)["days"]
        self.unit: dict[tuple[str, str], float] = {}
        for r in run(con, "task_type_unit_costs", params):
            self.unit[(r["task_type"], r["tier"])] = r["unit_cost_usd"]
        self.assigned: dict[tuple[str, str], dict] = {
            (r["task_type"], r["assigned_tier"]): r
            for r in run(con, "retiering_by_assigned_tier", params)
        }

    def per_month(self, count: float) -> float | None:
        return None if not self.days else count / self.days * DAYS_PER_MONTH

    def above(self, tier: str) -> str | None:
        i = self.ladder.index(tier)
        return self.ladder[i + 1] if i + 1 < len(self.ladder) else None

    def below(self, tier: str) -> str | None:
        i = self.ladder.index(tier)
        return self.ladder[i - 1] if i > 0 else None

    def cost(self, task_type: str, tier: str | None) -> float:
        """One call of the task type's tokens at `tier` ($0 above the top of the ladder)."""
        return 0.0 if tier is None else self.unit.get((task_type, tier), 0.0)

    def expected(self, task_type: str, tier: str, row: dict, end: str) -> float:
        """E(tier) per task with the rates at their point (`end`='point'), low or high end."""
        n = row["tasks"]
        pick = {"point": lambda c: c / n, "low": lambda c: wilson(c, n)[0],
                "high": lambda c: wilson(c, n)[1]}[end]  # fmt: skip
        g, f = pick(row["escalated"]), pick(row["failed"])
        return (
            self.cost(task_type, tier)
            + g * self.cost(task_type, self.above(tier))
            + f * self.failure_cost
        )

    def side(self, task_type: str, tier: str) -> dict:
        row = self.assigned.get((task_type, tier))
        if row is None:
            return {"tier": tier, "tasks": 0, "unit_cost_usd": self.cost(task_type, tier)}
        return {
            "tier": tier,
            "tasks": row["tasks"],
            "unit_cost_usd": self.cost(task_type, tier),
            "escalation": _rate(row["escalated"], row["tasks"]),
            "failure": _rate(row["failed"], row["tasks"]),
            "downstream_failure": _rate(row["downstream_failures"], row["tasks"]),
            "expected_cost_per_task_usd": self.expected(task_type, tier, row, "point"),
        }


def _recommendation(task_type, action, from_tier, to_tier, reason, evidence, impact, notes):
    return {
        "task_type": task_type,
        "action": action,
        "from_tier": from_tier,
        "to_tier": to_tier,
        "reason": reason,
        "evidence": evidence,
        "monthly_usd_impact": impact,
        "small_sample": any("small sample" in n for n in notes),
        "notes": notes,
    }


def _small(count: int, what: str) -> list[str]:
    if small_sample(count):
        return [f"small sample: only {count} {what} (< {SMALL_SAMPLE})"]
    return []


def _tier_up(ctx: _Context, task_type: str, tier: str, row: dict) -> dict | None:
    up = ctx.above(tier)
    if up is None:
        return None
    c_t, c_u = ctx.cost(task_type, tier), ctx.cost(task_type, up)
    if not c_u:
        return None
    up_row = ctx.assigned.get((task_type, up))
    n, g_low = row["tasks"], wilson(row["escalated"], row["tasks"])[0]
    evidence = {
        "from": ctx.side(task_type, tier),
        "to": ctx.side(task_type, up),
        "break_even_success_rate": c_t / c_u,
        "success_rate": 1 - row["escalated"] / n,
        "failure_cost_usd": ctx.failure_cost,
        "tasks_per_month": ctx.per_month(n),
    }
    notes = _small(n, f"tasks sent to {tier} first")
    if up_row is not None:
        if ctx.expected(task_type, tier, row, "low") <= ctx.expected(task_type, up, up_row, "high"):
            return None
        per_task = ctx.expected(task_type, up, up_row, "point") - ctx.expected(
            task_type, tier, row, "point"
        )
        notes += _small(up_row["tasks"], f"tasks sent to {up} first")
        f_t, f_u = row["failed"] / n, up_row["failed"] / up_row["tasks"]
        reason = (
            f"sent to {tier} first it fails {f_t:.1%} of the time and escalates "
            f"{row['escalated'] / n:.1%}; sent to {up} first it fails {f_u:.1%}. Even at the "
            f"ends of the 95% intervals most favourable to {tier}, starting on {up} costs less "
            f"per task (calls + ${ctx.failure_cost:g} per failure)"
        )
    else:
        spend_low = c_t + g_low * c_u
        if spend_low <= c_u:
            return None
        per_task = c_u - (c_t + row["escalated"] / n * c_u)
        notes.append(
            f"no tasks of this type were sent to {up} first: compared on spend only; "
            f"run a baseline on {up} to compare failures"
        )
        reason = (
            f"{tier} handles only {1 - row['escalated'] / n:.1%} without escalating, below the "
            f"break-even {c_t / c_u:.1%} = cost({tier}) / cost({up}): escalating costs more "
            f"than starting on {up}"
        )
    impact = ctx.per_month(per_task * n)
    return _recommendation(task_type, "tier_up", tier, up, reason, evidence, impact, notes)


def _tier_down(ctx: _Context, task_type: str, tier: str, row: dict) -> dict | None:
    down = ctx.below(tier)
    if down is None:
        return None
    n = row["tasks"]
    down_row = ctx.assigned.get((task_type, down))
    c_t, c_d = ctx.cost(task_type, tier), ctx.cost(task_type, down)
    evidence = {
        "from": ctx.side(task_type, tier),
        "to": ctx.side(task_type, down),
        "break_even_success_rate": ratio(c_d, c_t),
        "failure_cost_usd": ctx.failure_cost,
        "tasks_per_month": ctx.per_month(n),
    }
    notes = _small(n, f"tasks sent to {tier} first")
    if down_row is None:
        quality = _rate(row["quality_failures"], n)
        if quality["ci"][1] >= QUALITY_FAILURE_CEILING:
            return None
        evidence["quality_failure"] = quality
        evidence["saving_if_lower_tier_handles_all_usd_per_month"] = ctx.per_month((c_t - c_d) * n)
        reason = (
            f"{tier} never struggles with it ({row['quality_failures']} rejected or wrong of "
            f"{n}, under {QUALITY_FAILURE_CEILING:.0%} at the interval's top), but no task of "
            f"this type has run on {down}: run a baseline on the lower tier ({down}) before "
            f"moving it"
        )
        notes.append(f"no observations on {down}: no saving is claimed until a baseline runs")
        return _recommendation(task_type, "tier_down_candidate", tier, down, reason, evidence,
                               None, notes)  # fmt: skip
    if ctx.expected(task_type, down, down_row, "high") >= ctx.expected(task_type, tier, row, "low"):
        return None
    notes += _small(down_row["tasks"], f"tasks sent to {down} first")
    per_task = ctx.expected(task_type, down, down_row, "point") - ctx.expected(
        task_type, tier, row, "point"
    )
    reason = (
        f"sent to {down} first it fails {down_row['failed'] / down_row['tasks']:.1%} and "
        f"escalates {down_row['escalated'] / down_row['tasks']:.1%}; even at the ends of the "
        f"95% intervals least favourable to {down}, starting there and escalating costs less "
        f"than starting on {tier}"
    )
    impact = ctx.per_month(per_task * n)
    return _recommendation(task_type, "tier_down_candidate", tier, down, reason, evidence, impact,
                           notes)  # fmt: skip


def _escalation_paths(ctx: _Context, rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        tt, mid, top = r["task_type"], r["next_tier"], r["to_tier"]
        share = _rate(r["skip_tier_tasks"], r["escalated_tasks"])
        if share["ci"][0] <= SKIP_SHARE_FLOOR:
            continue
        c_mid, c_top = ctx.cost(tt, mid), ctx.cost(tt, top)
        mid_row = ctx.assigned.get((tt, mid))
        notes = _small(r["escalated_tasks"], "escalated tasks")
        if mid_row is not None:
            handled = mid_row["handled"] / mid_row["tasks"]
            notes += _small(mid_row["tasks"], f"tasks sent to {mid} first")
            assumption = f"{mid} handles {handled:.1%} of this type's tasks sent to it first"
        else:
            handled = 1.0
            assumption = (
                f"no task of this type was sent to {mid} first: the saving assumes {mid} "
                f"rescues every escalation (if it rescued none, each would cost "
                f"{fmt_usd(c_mid)} more)"
            )
            notes.append(assumption)
        per_step = c_mid + (1 - handled) * c_top - c_top
        out.append(
            _recommendation(
                tt,
                "fix_escalation_path",
                r["from_tier"],
                mid,
                f"{r['skip_tier_tasks']} of {r['escalated_tasks']} escalated tasks jump "
                f"{r['from_tier']}->{top}, skipping {mid}: escalate one rung at a time "
                f"({r['from_tier']}->{mid}->{top})",
                {
                    "path": f"{r['from_tier']}->{top}",
                    "steps": r["steps"],
                    "skip_tier_share": share,
                    "unit_cost_usd": {mid: c_mid, top: c_top},
                    "next_tier_success_rate": handled,
                    "assumption": assumption,
                    "steps_per_month": ctx.per_month(r["steps"]),
                },
                ctx.per_month(per_step * r["steps"]),
                notes,
            )
        )
    return out


def _rebaselines(ctx: _Context, drift_result: dict) -> list[dict]:
    found: dict[tuple[str, str], dict] = {}
    for change in drift_result["model_changes"]:
        for t in change["by_task_type"]:
            moved = [m for m in ("failure", "first_pass_failure") if t["significant"][m]]
            if not moved:
                continue
            before, after = t["before"], t["after"]
            excess = after["failure_rate"] - before["failure_rate"]
            per_month_tasks = None
            row = ctx.assigned.get((t["task_type"], change["tier"]))
            if row is not None:
                per_month_tasks = ctx.per_month(row["tasks"])
            at_stake = (
                max(excess, 0.0) * per_month_tasks * ctx.failure_cost
                if per_month_tasks is not None
                else None
            )
            words = ", ".join(
                f"{m.replace('_', ' ')} {before[f'{m}_rate']:.1%} -> {after[f'{m}_rate']:.1%}"
                for m in moved
            )
            found[(t["task_type"], change["tier"])] = _recommendation(
                t["task_type"],
                "rebaseline",
                change["tier"],
                None,
                f"{change['tier']} changed from {change['from_model']} to {change['to_model']} "
                f"on {change['at']} and this task type's {words} (the intervals separate even "
                f"widened for the {len(change['by_task_type'])} task types compared): "
                f"re-run the baseline on {change['tier']} and the tiers next to it",
                {
                    "model_change": {
                        k: change[k] for k in ("tier", "from_model", "to_model", "at")
                    },
                    "before": before,
                    "after": after,
                    "separated": t["separated"],
                    "significant": t["significant"],
                    "family_z": change["family_z"],
                    "excess_failure_usd_per_month": at_stake,
                },
                None,
                _small(min(before["tasks"], after["tasks"]), "tasks on one side of the change"),
            )
    for e in drift_result["evidence"]:
        key = (e["task_type"], e["routed_tier"])
        if not e["stale"] or key in found:
            continue
        found[key] = _recommendation(
            e["task_type"],
            "rebaseline",
            e["routed_tier"],
            None,
            "the routing evidence is stale: " + "; ".join(e["stale_reasons"]),
            {
                k: e[k]
                for k in (
                    "evidence_tasks",
                    "evidence_last_day",
                    "evidence_age_days",
                    "current_model",
                    "current_model_since",
                    "tasks_on_current_model",
                    "stale_reasons",
                )
            },  # fmt: skip
            None,
            _small(e["tasks_on_current_model"], "tasks on the current model"),
        )
    return list(found.values())


def _recalibrations(ctx: _Context, rows: list[dict]) -> list[dict]:
    out = []
    for r in rows:
        missed = _rate(r["wrong_high"], r["wrong_with_confidence"])
        if not r["wrong_with_confidence"] or missed["ci"][0] <= MISSED_SHARE_FLOOR:
            continue
        high = r["wrong_high"] + r["right_high"]
        out.append(
            _recommendation(
                r["task_type"],
                "recalibrate_confidence",
                r["final_tier"],
                None,
                f"{r['wrong_high']} of the {r['wrong_with_confidence']} answers {r['final_tier']} "
                f"got accepted and that were found wrong downstream said high confidence "
                f"(>= 0.8): a review of low-confidence answers cannot catch them. Make the "
                f"confidence signal discriminate (a different source, a check) or review "
                f"this type regardless of confidence",
                {
                    "accepted": r["accepted"],
                    "wrong": r["wrong"],
                    "wrong_with_high_confidence": missed,
                    "silent_failure_rate_among_high_confidence": _rate(r["wrong_high"], high),
                    "mean_high_confidence": r["mean_high_confidence"],
                    "right_with_high_confidence": _rate(
                        r["right_high"], r["right_with_confidence"]
                    ),
                    "silent_failure_usd_per_month": (
                        None
                        if ctx.per_month(r["wrong_high"]) is None
                        else ctx.per_month(r["wrong_high"]) * ctx.failure_cost
                    ),
                },
                None,
                _small(r["wrong_with_confidence"], "wrong answers with a confidence"),
            )
        )
    return out


# the numbers a --fail-on condition may name (tests/test_sample_fleet_findings.py keeps it true)
NUMBERS = frozenset(
    {
        "monthly_usd_impact",
    }
)


def build(
    con: duckdb.DuckDBPyConnection,
    config: Config,
    filters: Filters,
    stale_after_days: float | None = None,
    **options,
) -> dict:
    """Every recommendation for the selection, by task type then action."""
    ctx = _Context(con, config, filters)
    params = filters.params()
    recs: list[dict] = []
    for (task_type, tier), row in sorted(ctx.assigned.items()):
        for rule in (_tier_up, _tier_down):
            rec = rule(ctx, task_type, tier, row)
            if rec is not None:
                recs.append(rec)
    recs += _escalation_paths(ctx, run(con, "skip_tier_escalations", params))
    drift_result = drift.build(con, config, filters, stale_after_days=stale_after_days)
    recs += _rebaselines(ctx, drift_result)
    recs += _recalibrations(ctx, run(con, "confidence_misses_by_task_type", params))
    recs.sort(key=lambda r: (r["task_type"], ACTIONS.index(r["action"]), r["from_tier"] or ""))
    return {
        "settings": {
            "failure_cost_usd": ctx.failure_cost,
            "stale_after_days": drift_result["settings"]["stale_after_days"],
            "quality_failure_ceiling": QUALITY_FAILURE_CEILING,
            "skip_share_floor": SKIP_SHARE_FLOOR,
            "missed_share_floor": MISSED_SHARE_FLOOR,
            "days": ctx.days,
        },
        "recommendations": recs,
        # the rates weighed leave out the downstream failures of fleets that report none
        **downstream_reporting(con, params),
    }
