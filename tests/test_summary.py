"""The summary report on the small fleet of fixtures_analytics, worked out by hand."""

from __future__ import annotations

import pytest
from fixtures_analytics import (
    HOSTILE_TASK_TYPES,
    attempt,
    build_store,
    downstream,
    hostile_records,
    small_fleet_records,
)

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)


def summary(db, **filters):
    with open_store(db) as con:
        return build_report(con, "summary", DEFAULT, Filters.parse(**filters))


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("summary"), small_fleet_records())


def test_counts_rates_and_cost(small_db):
    s = summary(small_db)
    # executor tasks t1, t2, t3; calls: plan1, t1, t2 x2, t3, t3's reviewer = 6 over 3 days
    assert (s["tasks"], s["attempts"], s["executor_attempts"], s["days"]) == (3, 6, 4, 3)
    assert s["tasks_per_day"] == pytest.approx(1.0)  # 3 / 3
    assert s["attempts_per_day"] == pytest.approx(2.0)  # 6 / 3
    # failed: t3 (downstream); first-pass failure: t2; escalated: t2 (haiku -> sonnet)
    assert (s["failures"], s["first_pass_failures"], s["escalated_tasks"]) == (1, 1, 1)
    assert s["failure_rate"] == pytest.approx(1 / 3)
    # Wilson 1 of 3: centre = (1/3 + 3.8416/6) / (1 + 3.8416/3) = 0.973600 / 2.280533 = 0.426918
    # half = 1.96 * sqrt((1/3)(2/3)/3 + 3.8416/36) / 2.280533
    #      = 1.96 * sqrt(0.074074 + 0.106711) / 2.280533 = 1.96 * 0.425188 / 2.280533 = 0.365428
    #      -> [0.061490, 0.792346]
    low, high = s["failure_rate_ci"]
    assert low == pytest.approx(0.061490, abs=1e-5) and high == pytest.approx(0.792346, abs=1e-5)
    assert s["small_sample"] is True
    # spend: 0.2312 (see tests/test_costs.py) / 3 days = 0.077067 a day, x 30 = 2.312 a month
    assert s["realized_usd"] == pytest.approx(0.2312)
    assert s["cost_usd_per_day"] == pytest.approx(0.2312 / 3)
    assert s["cost_usd_per_month"] == pytest.approx(2.312)


def test_tier_mix(small_db):
    mix = summary(small_db)["tier_mix"]
    # planner tiers: t1, t2 haiku; t3 opus
    assert mix["by_planner_tier"] == [
        {"tier": "haiku", "tasks": 2, "share": pytest.approx(2 / 3)},
        {"tier": "opus", "tasks": 1, "share": pytest.approx(1 / 3)},
    ]
    # executed (first) tier the same; final tier: t2 ended on sonnet
    assert [(r["tier"], r["tasks"]) for r in mix["by_final_tier"]] == [
        ("haiku", 1),
        ("sonnet", 1),
        ("opus", 1),
    ]
    # executor calls: haiku t1, t2; sonnet t2; opus t3 (reviewer and planner are not executors)
    assert [(r["tier"], r["attempts"]) for r in mix["executor_attempts_by_tier"]] == [
        ("haiku", 2),
        ("sonnet", 1),
        ("opus", 1),
    ]


def test_daily_rows(small_db):
    daily = summary(small_db)["daily"]
    # 1 March: t1, t2 start; calls plan1, t1, t2, t2 = 0.006 + 0.0036 + 0.0036 + 0.0135 = 0.0267
    # 3 March: t3; calls t3 + reviewer = 0.2 + 0.0045 = 0.2045; 2 March had nothing
    assert [(d["day"], d["tasks"], d["attempts"]) for d in daily] == [
        ("2026-03-01", 2, 4),
        ("2026-03-03", 1, 2),
    ]
    assert daily[0]["usd"] == pytest.approx(0.0267) and daily[1]["usd"] == pytest.approx(0.2045)
    assert daily[1]["failures"] == 1 and daily[0]["escalated_tasks"] == 1


def test_tasks_without_planner_tier_are_not_given_not_dropped(tmp_path):
    db = build_store(
        tmp_path,
        [
            attempt("a", "2026-03-01T10:00:00Z", "x", "haiku", planner_tier="haiku"),
            attempt("b", "2026-03-01T10:00:00Z", "x", "sonnet"),
        ],
    )
    s = summary(db)
    assert s["tasks_without_planner_tier"] == 1
    assert [(r["tier"], r["tasks"]) for r in s["tier_mix"]["by_planner_tier"]] == [
        ("haiku", 1),
        ("(not given)", 1),
    ]
    assert "(not given)" in render_text("summary", s)


def test_hostile_names_through_every_filter(tmp_path):
    db = build_store(tmp_path, hostile_records())
    with open_store(db) as con:
        for name in HOSTILE_TASK_TYPES:
            for f in (Filters(task_types=(name,)), Filters(fleets=(name,))):
                s = build_report(con, "summary", DEFAULT, f)
                # one task, two calls, escalated once, first pass failed, ended ok
                assert (s["tasks"], s["attempts"], s["escalated_tasks"]) == (1, 2, 1), (name, f)
                assert (s["failures"], s["first_pass_failures"]) == (0, 1)
        assert build_report(con, "summary", DEFAULT, Filters())["tasks"] == 7


def test_fleets_that_report_no_downstream_outcome_are_named_not_counted_as_clean(tmp_path):
    """a reports one (downstream_failure: false on an attempt), c reports one by a
    downstream-failure record, b and the fleetless task report none: b's 0 of 1 says nothing
    about b. With only b selected there is no downstream rate to show."""
    day = "2026-03-02T10:00:00Z"
    db = build_store(
        tmp_path,
        [
            attempt("a1", day, "x", "haiku", fleet="a", downstream_failure=False),
            attempt("a2", day, "x", "haiku", fleet="a"),
            attempt("b1", day, "x", "haiku", fleet="b"),
            attempt("c1", day, "x", "haiku", fleet="c"),
            downstream("c1", "2026-03-03T10:00:00Z"),
            attempt("n1", day, "x", "haiku"),
        ],
    )
    s = summary(db)
    assert (s["tasks"], s["downstream_failures"]) == (5, 1)  # c1 failed downstream
    assert s["downstream_reported"] is True
    assert s["fleets_without_downstream"] == [None, "b"]
    text = render_text("summary", s)
    assert "Downstream failure rate: 20.0%" in text  # 1 of 5, as before
    assert "not reported by (no fleet), b: their tasks count as not failed downstream" in text

    with open_store(db) as con:
        tiers = build_report(con, "tiers", DEFAULT, Filters.parse())
    assert tiers["fleets_without_downstream"] == [None, "b"]
    assert render_text("tiers", tiers).endswith(
        "downstream: not reported by (no fleet), b; their tasks count as not failed downstream"
    )

    # the what-if reports simulate from the same tasks: b's and the fleetless task's
    # downstream outcomes are not in them either, and they say so under the fleet's figures
    with open_store(db) as con:
        simulated = build_report(con, "simulate", DEFAULT, Filters.parse(), table="observed")
        optimised = build_report(con, "optimize", DEFAULT, Filters.parse())
        recommended = build_report(con, "recommendations", DEFAULT, Filters.parse())
    for r, name in (
        (simulated, "simulate"),
        (optimised, "optimize"),
        (recommended, "recommendations"),
    ):
        assert (r["downstream_reported"], r["fleets_without_downstream"]) == (True, [None, "b"])
        assert (
            "Downstream: not reported by (no fleet), b; their tasks count as not failed "
            "downstream, so the downstream figures and failure rates leave theirs out."
        ) in render_text(name, r)

    only_b = summary(db, fleets=["b"])
    assert (only_b["tasks"], only_b["downstream_reported"]) == (1, False)
    assert only_b["fleets_without_downstream"] == ["b"]
    text = render_text("summary", only_b)
    assert "Downstream failure rate: not reported (no record of b says whether" in text
    assert "0.0%" not in text.split("Downstream failure rate:")[1].split("\n")[0]
    with open_store(db) as con:
        simulated = build_report(con, "simulate", DEFAULT, Filters.parse(fleets=["b"]))
    assert "Downstream: no fleet of the selection reports whether" in render_text(
        "simulate", simulated
    )
