"""Re-tiering recommendations on hand-built fleets, each number worked out by hand.

Every task here is 2,000 input and 500 output tokens a call, so one call costs
haiku 2000*0.8 + 500*4 = 3600 -> $0.0036, sonnet 2000*3 + 500*15 = 13500 -> $0.0135,
opus 2000*15 + 500*75 = 67500 -> $0.0675. The fleets span 1-10 March: 10 days, so a
month (30 days) is 3x the counts here. failure_cost_usd is the default $50.

Wilson 95% intervals used below (z^2 = 3.8416):
  0/40:  [0, 0.0876]     20/40: [0.3520, 0.6480]   36/40: [0.7695, 0.9605]
  10/10: [0.7225, 1]     10/20: [0.2993, 0.7007]   0/200: [0, 0.01885]
  10/200: [0.0274, 0.0896]
"""

from __future__ import annotations

import dataclasses

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, attempt, build_store, downstream

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report
from tierwatch.queries.stats import wilson

DEFAULT = load_config(None)
HAIKU, SONNET, OPUS = 0.0036, 0.0135, 0.0675


def test_the_wilson_bounds_used_here():
    # the docstring's intervals, so the arithmetic below rests on checked numbers
    for (k, n), (low, high) in {
        (0, 40): (0.0, 0.0876),
        (20, 40): (0.3520, 0.6480),
        (36, 40): (0.7695, 0.9605),
        (10, 10): (0.7225, 1.0),
        (10, 20): (0.2993, 0.7007),
        (0, 200): (0.0, 0.01885),
        (10, 200): (0.0274, 0.0896),
    }.items():
        assert wilson(k, n) == pytest.approx((low, high), abs=1e-4)


def tasks(prefix: str, n: int, task_type: str, chain, *, wrong: int = 0, models=None, **fields):
    """n tasks spread over 1-10 March; `chain` lists (tier, status) per attempt; the first
    `wrong` tasks are found wrong downstream; models(day) names the model of a call."""
    recs = []
    for i in range(n):
        day = 1 + i % 10
        for step, (tier, status) in enumerate(chain, start=1):
            extra = dict(fields)
            if models:
                extra["model"] = models(day, tier)
            recs.append(
                attempt(f"{prefix}{i}", f"2026-03-{day:02d}T{i // 10 % 24:02d}:{step:02d}:00Z",
                        task_type, tier, attempt=step, status=status,
                        planner_tier=chain[0][0], **extra)
            )  # fmt: skip
        if i < wrong:
            recs.append(downstream(f"{prefix}{i}", f"2026-03-{day:02d}T23:59:00Z"))
    return recs


def fleet() -> list[dict]:
    return [
        # cls: under-routed. Sent to haiku: 40 tasks, 20 found wrong. To sonnet: 40, none.
        *tasks("clsh", 40, "cls", [("haiku", "ok")], wrong=20),
        *tasks("clss", 40, "cls", [("sonnet", "ok")]),
        # esc: haiku fails 36 of 40 and sonnet rescues every one
        *tasks("esca", 36, "esc", [("haiku", "failed"), ("sonnet", "ok")]),
        *tasks("escb", 4, "esc", [("haiku", "ok")]),
        # skip: 10 of 20 haiku tasks escalate straight to opus
        *tasks("skipa", 10, "skip", [("haiku", "failed"), ("opus", "ok")]),
        *tasks("skipb", 10, "skip", [("haiku", "ok")]),
        # ping: always opus, 200 tasks, never a problem, never seen on sonnet
        *tasks("ping", 200, "ping", [("opus", "ok")]),
        # hard (control): opus, 200 tasks, 10 rejected once and retried on opus
        *tasks("harda", 10, "hard", [("opus", "failed"), ("opus", "ok")]),
        *tasks("hardb", 190, "hard", [("opus", "ok")]),
        # fmt (control): 40 on haiku and 40 on sonnet, no failure anywhere
        *tasks("fmth", 40, "fmt", [("haiku", "ok")]),
        *tasks("fmts", 40, "fmt", [("sonnet", "ok")]),
    ]


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("recs"), fleet())


def recommend(db, config=DEFAULT, filters=None):
    with open_store(db) as con:
        return build_report(con, "recommendations", config, filters or Filters())


def by_key(result) -> dict:
    return {(r["task_type"], r["action"], r["from_tier"]): r for r in result["recommendations"]}


def test_exactly_the_expected_recommendations(db):
    result = recommend(db)
    assert result["settings"]["days"] == 10
    assert sorted(by_key(result)) == [
        ("cls", "tier_up", "haiku"),
        ("esc", "tier_up", "haiku"),
        ("ping", "tier_down_candidate", "opus"),
        ("skip", "fix_escalation_path", "haiku"),
    ]  # hard and fmt (controls) get none


def test_tier_up_on_failures_with_the_failure_cost(db):
    rec = by_key(recommend(db))[("cls", "tier_up", "haiku")]
    assert rec["to_tier"] == "sonnet"
    ev = rec["evidence"]
    assert ev["from"]["failure"]["count"] == 20 and ev["from"]["tasks"] == 40
    assert ev["to"]["failure"]["count"] == 0 and ev["to"]["tasks"] == 40
    # robust test: E(haiku) with its low ends = 0.0036 + 0 + 50 * 0.3520 = 17.6;
    # E(sonnet) with its high ends = 0.0135 + 0.0876 * 0.0675 + 50 * 0.0876 = 4.39: 17.6 > 4.39
    # point estimates: E(haiku) = 0.0036 + 0 * 0.0135 + 50 * 0.5 = 25.0036
    #                  E(sonnet) = 0.0135 + 0 * 0.0675 + 50 * 0 = 0.0135
    assert ev["from"]["expected_cost_per_task_usd"] == pytest.approx(25.0036)
    assert ev["to"]["expected_cost_per_task_usd"] == pytest.approx(0.0135)
    # 40 haiku tasks in 10 days = 120 a month; (0.0135 - 25.0036) * 120 = -2998.812
    assert rec["monthly_usd_impact"] == pytest.approx(-2998.812)
    assert ev["break_even_success_rate"] == pytest.approx(HAIKU / SONNET)  # 0.2667
    assert rec["small_sample"] is False


def test_tier_up_on_spend_alone_says_so(db):
    rec = by_key(recommend(db))[("esc", "tier_up", "haiku")]
    # 36 of 40 escalate: success 0.1 < break-even 0.0036 / 0.0135 = 0.2667. Robust: with the
    # escalation rate at its low end, 0.0036 + 0.7695 * 0.0135 = 0.01399 > 0.0135
    assert rec["evidence"]["success_rate"] == pytest.approx(0.1)
    assert any("compared on spend only" in n for n in rec["notes"])
    # per task: 0.0135 - (0.0036 + 0.9 * 0.0135) = -0.00225; x 120 a month = -0.27
    assert rec["monthly_usd_impact"] == pytest.approx(-0.27)


def test_fix_escalation_path_prices_the_skipped_rung(db):
    rec = by_key(recommend(db))[("skip", "fix_escalation_path", "haiku")]
    assert rec["to_tier"] == "sonnet" and rec["evidence"]["path"] == "haiku->opus"
    share = rec["evidence"]["skip_tier_share"]
    assert (share["count"], share["of"]) == (10, 10)  # low end 0.7225 > 0.10
    # sonnet never ran this type: best case, sonnet rescues all:
    # per step 0.0135 + 0 * 0.0675 - 0.0675 = -0.054; 10 steps in 10 days = 30 a month
    assert rec["monthly_usd_impact"] == pytest.approx(-1.62)
    assert rec["small_sample"] is True  # 10 escalated tasks < 30
    assert any("assumes sonnet rescues every escalation" in n for n in rec["notes"])


def test_tier_down_without_a_baseline_invents_nothing(db):
    rec = by_key(recommend(db))[("ping", "tier_down_candidate", "opus")]
    assert rec["to_tier"] == "sonnet"
    assert "run a baseline on the lower tier" in rec["reason"]
    assert rec["monthly_usd_impact"] is None
    # 0 quality failures of 200: the interval's top 0.01885 < 0.02
    assert rec["evidence"]["quality_failure"]["ci"][1] == pytest.approx(0.01885, abs=1e-4)
    assert rec["evidence"]["to"]["tasks"] == 0
    # what is at stake, not claimed: (0.0675 - 0.0135) * 600 a month = 32.4
    assert rec["evidence"]["saving_if_lower_tier_handles_all_usd_per_month"] == pytest.approx(32.4)


def test_tier_down_with_a_baseline_when_failures_cost_nothing(db):
    free = dataclasses.replace(DEFAULT, settings={**DEFAULT.settings, "failure_cost_usd": 0.0})
    recs = by_key(recommend(db, config=free))
    rec = recs[("fmt", "tier_down_candidate", "sonnet")]
    # E(haiku) high ends = 0.0036 + 0.0876 * 0.0135 = 0.00478 < E(sonnet) low ends = 0.0135
    # per task 0.0036 - 0.0135 = -0.0099; 40 sonnet tasks = 120 a month: -1.188
    assert rec["to_tier"] == "haiku"
    assert rec["monthly_usd_impact"] == pytest.approx(-1.188)
    # with failures free, cls's haiku failures no longer argue for sonnet: it goes down too
    assert ("cls", "tier_up", "haiku") not in recs
    assert ("cls", "tier_down_candidate", "sonnet") in recs


def fleet_two() -> list[dict]:
    recs = []
    # drift (sonnet): 4 tasks a day; sonnet runs s-a on days 1-5 and s-b on days 6-10.
    # Before: 20 tasks, none wrong. After: 20 tasks, the first 12 found wrong downstream.
    for i in range(40):
        day = 1 + i // 4
        task_id = f"dr{i}"
        recs.append(attempt(task_id, f"2026-03-{day:02d}T09:{i:02d}:00Z", "drift", "sonnet",
                            planner_tier="sonnet", model="s-a" if day <= 5 else "s-b"))  # fmt: skip
        if 20 <= i < 32:
            recs.append(downstream(task_id, f"2026-03-{day:02d}T23:00:00Z"))
        # steady (sonnet): the same 4 tasks a day, never wrong
        recs.append(attempt(f"st{i}", f"2026-03-{day:02d}T10:{i:02d}:00Z", "steady", "sonnet",
                            planner_tier="sonnet", model="s-a" if day <= 5 else "s-b"))  # fmt: skip
    return [
        *recs,
        # names: 10 of 40 accepted haiku answers said 0.9 and were found wrong
        *tasks("nmw", 10, "names", [("haiku", "ok")], wrong=10, confidence=0.9),
        *tasks("nmr", 30, "names", [("haiku", "ok")], confidence=0.9),
        # names_ok (control): its 10 wrong answers said 0.5
        *tasks("now", 10, "names_ok", [("haiku", "ok")], wrong=10, confidence=0.5),
        *tasks("nor", 30, "names_ok", [("haiku", "ok")], confidence=0.9),
    ]


@pytest.fixture(scope="module")
def db_two(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("recs2"), fleet_two())


def test_rebaseline_and_recalibrate(db_two):
    recs = by_key(recommend(db_two))
    assert sorted(recs) == [
        ("drift", "rebaseline", "sonnet"),
        ("names", "recalibrate_confidence", "haiku"),
        ("steady", "rebaseline", "sonnet"),
    ]  # names_ok (control) gets none

    rebase = recs[("drift", "rebaseline", "sonnet")]
    assert rebase["evidence"]["model_change"] == {
        "tier": "sonnet", "from_model": "s-a", "to_model": "s-b", "at": "2026-03-06",
    }  # fmt: skip
    # before 0/20: [0, 0.1611]; after 12/20 = 0.6: [0.3866, 0.7812]: separate
    assert rebase["evidence"]["before"]["failure_rate"] == 0.0
    assert rebase["evidence"]["after"]["failure_rate"] == pytest.approx(0.6)
    assert rebase["evidence"]["separated"]["failure"] is True
    assert rebase["monthly_usd_impact"] is None
    # at stake: (0.6 - 0) * 40 tasks in 10 days (120 a month) * $50 = 3600
    assert rebase["evidence"]["excess_failure_usd_per_month"] == pytest.approx(3600)
    assert rebase["small_sample"] is True  # 20 tasks a side < 30

    recal = recs[("names", "recalibrate_confidence", "haiku")]
    missed = recal["evidence"]["wrong_with_high_confidence"]
    assert (missed["count"], missed["of"]) == (10, 10)  # low end 0.7225 > 0.5
    # silent failures among the 40 high-confidence answers: 10 / 40
    assert recal["evidence"]["silent_failure_rate_among_high_confidence"]["rate"] == 0.25
    # 10 silent failures in 10 days = 30 a month, x $50 = 1500
    assert recal["evidence"]["silent_failure_usd_per_month"] == pytest.approx(1500)
    assert recal["monthly_usd_impact"] is None
    assert recal["small_sample"] is True  # 10 wrong answers < 30


def test_stale_evidence_asks_for_a_rebaseline(db_two):
    recs = by_key(recommend(db_two))
    # steady did not change (0/20 before and after) but only 20 of its tasks ran on s-b
    rec = recs[("steady", "rebaseline", "sonnet")]
    assert rec["reason"] == (
        "the routing evidence is stale: sonnet changed to s-b on 2026-03-06; "
        "only 20 tasks since (< 30)"
    )
    assert rec["small_sample"] is True
    # with stale_after_days the age counts too; the evidence is 0 days old: nothing more
    with open_store(db_two) as con:
        result = build_report(con, "recommendations", DEFAULT, Filters(), stale_after_days=0)
    assert sorted(by_key(result)) == sorted(recs)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    recs = []
    for j, name in enumerate((*HOSTILE_TASK_TYPES, "control")):
        recs += tasks(f"h{j}-", 40, name, [("haiku", "failed"), ("sonnet", "ok")], fleet=name)
    return build_store(tmp_path_factory.mktemp("hostile"), recs)


@pytest.mark.parametrize("name", HOSTILE_TASK_TYPES)
def test_hostile_names_through_filters(hostile_db, name):
    for filters in (Filters(task_types=(name,)), Filters(fleets=(name,))):
        result = recommend(hostile_db, filters=filters)
        # 40 of 40 escalate: success 0 < break-even 0.2667 even at the low end (0.9124)
        assert [(r["task_type"], r["action"]) for r in result["recommendations"]] == [
            (name, "tier_up")
        ]
    assert name in render_text("recommendations", result)


def test_render_lists_reasons_and_notes(db):
    text = render_text("recommendations", recommend(db))
    assert "run a baseline on the lower tier (sonnet)" in text
    assert "note: no tasks of this type were sent to sonnet first" in text
    assert "saves $2,998.81" in text  # cls: -2998.812 a month
    assert "not estimated" in text  # ping: no baseline, no claim
