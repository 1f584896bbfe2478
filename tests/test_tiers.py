"""Failure by planner-assigned and executed tier, on a fixture worked out by hand."""

from __future__ import annotations

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, attempt, build_store, downstream, hostile_records

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)
DAY = "2026-03-01T10:00:00Z"
LATER = "2026-03-01T10:05:00Z"


def fixture_records() -> list[dict]:
    records = [
        # classify, planner haiku:
        attempt("h1", DAY, "classify", "haiku", planner_tier="haiku"),  # ok
        attempt("h2", DAY, "classify", "haiku", planner_tier="haiku", status="failed"),
        attempt("h2", LATER, "classify", "sonnet", attempt=2),  # first pass failed, escalated
        attempt("h3", DAY, "classify", "haiku", planner_tier="haiku"),  # ok, found wrong later
        downstream("h3", "2026-03-02T00:00:00Z"),
        attempt("h4", DAY, "classify", "haiku", planner_tier="haiku", status="error"),
        attempt("h4", LATER, "classify", "haiku", attempt=2, status="failed"),  # retried, failed
        # classify, planner sonnet: both ok
        attempt("s1", DAY, "classify", "sonnet", planner_tier="sonnet"),
        attempt("s2", DAY, "classify", "sonnet", planner_tier="sonnet"),
        # classify without a planner tier, run on sonnet
        attempt("n1", DAY, "classify", "sonnet"),
        # extract: the planner said haiku, the executor ran sonnet
        attempt("e1", DAY, "extract", "sonnet", planner_tier="haiku"),
    ]
    # triage: 10 haiku-assigned tasks all fail, 10 sonnet-assigned all succeed
    for i in range(10):
        records.append(
            attempt(f"th{i}", DAY, "triage", "haiku", planner_tier="haiku", status="failed")
        )
        records.append(attempt(f"ts{i}", DAY, "triage", "sonnet", planner_tier="sonnet"))
    return records


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    db = build_store(tmp_path_factory.mktemp("tiers"), fixture_records())
    with open_store(db) as con:
        return build_report(con, "tiers", DEFAULT, Filters())


def by(rows, **keys):
    found = [r for r in rows if all(r.get(k) == v for k, v in keys.items())]
    assert len(found) == 1, keys
    return found[0]


def test_by_planner_tier_within_a_task_type(report):
    h = by(report["by_task_type"], task_type="classify", planner_tier="haiku")
    # h1..h4: first pass failed h2, h4 (2); failed h3 (downstream), h4 (last not ok) (2);
    # downstream h3 (1); escalated h2 (1)
    assert h["tasks"] == 4
    assert (h["first_pass_failures"], h["failures"], h["downstream_failures"]) == (2, 2, 1)
    assert h["escalated_tasks"] == 1
    assert h["failure_rate"] == pytest.approx(0.5) and h["escalation_rate"] == pytest.approx(0.25)
    assert h["small_sample"] is True
    s = by(report["by_task_type"], task_type="classify", planner_tier="sonnet")
    assert (s["tasks"], s["failures"], s["failure_rate"]) == (2, 0, 0.0)
    n = by(report["by_task_type"], task_type="classify", planner_tier="(not given)")
    assert n["tasks"] == 1


def test_by_planner_tier_overall_with_interval(report):
    rows = report["by_planner_tier"]
    assert [r["planner_tier"] for r in rows] == ["haiku", "sonnet", "(not given)"]
    h = rows[0]
    # haiku: classify h1..h4, extract e1, triage th0..th9 = 15 tasks;
    # failures: h3, h4 + 10 triage = 12 -> 0.8
    assert (h["tasks"], h["failures"]) == (15, 12) and h["failure_rate"] == pytest.approx(0.8)
    # Wilson 12 of 15: centre = (0.8 + 3.8416/30) / (1 + 3.8416/15) = 0.928053 / 1.256107
    #   = 0.738832; half = 1.96 * sqrt(0.8*0.2/15 + 3.8416/900) / 1.256107
    #   = 1.96 * sqrt(0.010667 + 0.004268) / 1.256107 = 1.96 * 0.122209 / 1.256107 = 0.190689
    low, high = h["failure_rate_ci"]
    assert low == pytest.approx(0.548143, abs=1e-4) and high == pytest.approx(0.929521, abs=1e-4)
    # sonnet: s1, s2, ts0..ts9 = 12 tasks, none failed
    assert (rows[1]["tasks"], rows[1]["failures"]) == (12, 0)


def test_by_executed_tier(report):
    rows = {r["executed_tier"]: r for r in report["by_executed_tier"]}
    # executed (first) tier haiku: h1..h4, th0..th9 = 14; sonnet: s1, s2, n1, e1, ts0..ts9 = 14
    assert rows["haiku"]["tasks"] == 14 and rows["sonnet"]["tasks"] == 14
    e = by(report["by_task_type_executed_tier"], task_type="extract", executed_tier="sonnet")
    assert e["tasks"] == 1 and "planner_tier" not in e


def test_a_cheap_tier_that_fails_clearly_more_is_marked(report):
    th = by(report["by_task_type"], task_type="triage", planner_tier="haiku")
    # 10 of 10 failed: [0.7225, 1]; sonnet 0 of 10: [0, 0.2775]; no overlap
    assert th["fails_more_than"] == ["sonnet"]
    ch = by(report["by_task_type"], task_type="classify", planner_tier="haiku")
    assert ch["fails_more_than"] == []  # 2 of 4 vs 0 of 2: the intervals overlap
    text = render_text("tiers", report)
    assert "fails more than sonnet" in text and "small sample" in text


def test_hostile_names_through_every_filter(tmp_path):
    db = build_store(tmp_path, hostile_records())
    with open_store(db) as con:
        for name in HOSTILE_TASK_TYPES:
            for f in (Filters(task_types=(name,)), Filters(fleets=(name,))):
                r = build_report(con, "tiers", DEFAULT, f)
                assert [(x["task_type"], x["tasks"]) for x in r["by_task_type"]] == [(name, 1)]
                assert r["by_planner_tier"][0]["first_pass_failures"] == 1
