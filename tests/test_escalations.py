"""Escalation hotspots on a fixture worked out by hand."""

from __future__ import annotations

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, attempt, build_store, hostile_records

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)


def t(minute: int) -> str:
    return f"2026-03-01T10:{minute:02d}:00Z"


def fixture_records() -> list[dict]:
    # every call 2,000 in / 500 out: haiku $0.0036, sonnet $0.0135, opus $0.0675
    return [
        # research
        attempt("r1", t(0), "research", "haiku"),  # ok
        attempt("r2", t(0), "research", "haiku", status="failed"),
        attempt("r2", t(1), "research", "sonnet", attempt=2, escalation_reason="reviewer_reject"),
        attempt("r2", t(2), "research", "sonnet", role="reviewer", cost_usd=0.01),
        attempt("r3", t(0), "research", "haiku", status="failed"),
        attempt("r3", t(1), "research", "opus", attempt=2, escalation_reason="low_confidence"),
        attempt("r4", t(0), "research", "haiku", status="error"),
        attempt("r4", t(1), "research", "haiku", attempt=2, status="failed",
                escalation_reason="error"),
        attempt("r4", t(2), "research", "sonnet", attempt=3, status="failed",
                escalation_reason="reviewer_reject"),
        attempt("r5", t(0), "research", "sonnet", status="failed"),
        attempt("r5", t(1), "research", "haiku", attempt=2),  # a step down
        # status: never escalates
        attempt("s1", t(0), "status", "opus"),
        attempt("s2", t(0), "status", "opus"),
    ]  # fmt: skip


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    db = build_store(tmp_path_factory.mktemp("escalations"), fixture_records())
    with open_store(db) as con:
        return build_report(con, "escalations", DEFAULT, Filters())


def test_rates_paths_and_reasons(report):
    research, status = report["by_task_type"]
    assert research["task_type"] == "research" and status["task_type"] == "status"
    # escalated: r2 (h->s), r3 (h->o), r4 (h->h retry, then h->s) = 3 of 5
    assert research["tasks"] == 5 and research["escalated_tasks"] == 3
    assert research["escalation_rate"] == pytest.approx(0.6)
    # retried: r4 only = 1 of 5
    assert research["retried_tasks"] == 1 and research["retry_rate"] == pytest.approx(0.2)
    assert (research["escalations"], research["retries"]) == (3, 1)
    assert research["skip_tier_escalations"] == 1 and research["step_downs"] == 1
    assert research["paths"] == {"haiku->sonnet": 2, "haiku->opus": 1}
    # reasons logged on the attempts after the first: r2 reviewer_reject, r3 low_confidence,
    # r4 error (its retry) and reviewer_reject; r5's second call gave none
    assert research["reasons"] == {"reviewer_reject": 2, "low_confidence": 1, "error": 1}
    # rescued: r2 and r3 ended ok, r4 did not: 2 of 3
    assert research["rescued_tasks"] == 2 and research["rescue_rate"] == pytest.approx(2 / 3)
    assert (
        status["escalated_tasks"] == 0 and status["paths"] == {} and status["rescue_rate"] is None
    )


def test_escalation_tax(report):
    research, status = report["by_task_type"]
    # spend: r1 0.0036; r2 0.0036 + 0.0135 + reviewer 0.01; r3 0.0036 + 0.0675;
    # r4 0.0036 + 0.0036 + 0.0135; r5 0.0135 + 0.0036
    #   = 0.0036 + 0.0271 + 0.0711 + 0.0207 + 0.0171 = 0.1396
    # superseded: r2's haiku 0.0036, r3's haiku 0.0036, r4's two haiku 0.0072, r5's sonnet
    #   0.0135 = 0.0279 in 5 attempts
    assert research["spend_usd"] == pytest.approx(0.1396)
    assert research["superseded_attempts"] == 5
    assert research["escalation_cost_usd"] == pytest.approx(0.0279)
    assert research["escalation_tax"] == pytest.approx(0.0279 / 0.1396)  # 0.19986
    assert status["escalation_tax"] == 0.0
    # overall: 0.0279 / (0.1396 + 2 x 0.0675 = 0.2746) = 0.1016
    assert report["escalation_tax"] == pytest.approx(0.0279 / 0.2746)
    assert report["paths"] == {"haiku->sonnet": 2, "haiku->opus": 1}
    assert report["skip_tier_escalations"] == 1


def test_ranked_by_what_escalation_costs(tmp_path):
    # cheap: 3 of 3 escalate haiku -> sonnet (superseded 3 x 0.0036 = 0.0108)
    # dear: 1 of 3 escalates sonnet -> opus (superseded 0.0135): dear ranks first
    records = []
    for i in range(3):
        records.append(attempt(f"c{i}", t(0), "cheap", "haiku", status="failed"))
        records.append(attempt(f"c{i}", t(1), "cheap", "sonnet", attempt=2))
        records.append(
            attempt(f"d{i}", t(0), "dear", "sonnet", status="failed" if i == 0 else "ok")
        )
    records.append(attempt("d0", t(1), "dear", "opus", attempt=2))
    db = build_store(tmp_path, records)
    with open_store(db) as con:
        r = build_report(con, "escalations", DEFAULT, Filters())
    assert [x["task_type"] for x in r["by_task_type"]] == ["dear", "cheap"]
    assert r["by_task_type"][0]["escalation_cost_usd"] == pytest.approx(0.0135)
    assert r["by_task_type"][1]["escalation_cost_usd"] == pytest.approx(0.0108)


def test_text(report):
    text = render_text("escalations", report)
    assert "haiku->opus 1" in text and "reviewer_reject 2" in text


def test_hostile_names_through_every_filter(tmp_path):
    db = build_store(tmp_path, hostile_records())
    with open_store(db) as con:
        for name in HOSTILE_TASK_TYPES:
            for f in (Filters(task_types=(name,)), Filters(fleets=(name,))):
                r = build_report(con, "escalations", DEFAULT, f)
                (row,) = r["by_task_type"]
                assert row["task_type"] == name and row["paths"] == {"haiku->sonnet": 1}
                # superseded: the haiku call 0.0036 of 0.0036 + 0.0135 = 0.0171
                assert row["escalation_tax"] == pytest.approx(0.0036 / 0.0171)


def test_attempt_numbers_shared_with_the_planner(tmp_path):
    # the fleet numbers every call of a task: planner 1, executors from 2 on
    records = [
        attempt("n1", t(0), "numbered", "sonnet", role="planner"),
        attempt("n1", t(1), "numbered", "haiku", attempt=2, status="failed"),
        attempt("n1", t(2), "numbered", "sonnet", attempt=3),
        attempt("n2", t(0), "numbered", "sonnet", role="planner"),
        attempt("n2", t(1), "numbered", "haiku", attempt=2),  # a one-call chain numbered 2
    ]
    db = build_store(tmp_path, records)
    with open_store(db) as con:
        (row,) = build_report(con, "escalations", DEFAULT, Filters())["by_task_type"]
    assert (row["tasks"], row["escalated_tasks"]) == (2, 1)
    assert row["paths"] == {"haiku->sonnet": 1}
    # superseded: only n1's haiku call, $0.0036; spend: two planner calls on sonnet 2 x 0.0135,
    # haiku 2 x 0.0036, sonnet 0.0135 = 0.0477
    assert row["superseded_attempts"] == 1
    assert row["escalation_cost_usd"] == pytest.approx(0.0036)
    assert row["escalation_tax"] == pytest.approx(0.0036 / 0.0477)
