"""The numbers the dashboard's pages draw, computed in queries/ (so the command line and the
pages cannot disagree), on a small fleet worked out by hand.

Every call is 2,000 input / 500 output tokens at the built-in prices: haiku $0.0036,
sonnet $0.0135, opus $0.0675 (0.8/4, 3/15 and 15/75 dollars per million tokens).

    t1  Mon 2026-03-02  haiku ok                      ok, not escalated
    t2  Mon 2026-03-02  haiku failed, then sonnet ok  ok, escalated (haiku call superseded)
    t3  Tue 2026-03-03  sonnet failed                 failed, not escalated
    t4  Mon 2026-03-09  haiku failed                  failed, not escalated
"""

from __future__ import annotations

import datetime as dt

import pytest
from fixtures_analytics import attempt, build_store

from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters, pricing, run
from tierwatch.queries import costs as cost_steps
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)
HAIKU, SONNET, OPUS = 0.0036, 0.0135, 0.0675


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    records = [
        attempt("t1", "2026-03-02T09:00:00Z", "extract", "haiku"),
        attempt("t2", "2026-03-02T10:00:00Z", "extract", "haiku", status="failed"),
        attempt("t2", "2026-03-02T10:01:00Z", "extract", "sonnet", attempt=2,
                escalation_reason="reviewer_reject"),
        attempt("t3", "2026-03-03T09:00:00Z", "extract", "sonnet", status="failed"),
        attempt("t4", "2026-03-09T09:00:00Z", "extract", "haiku", status="failed"),
    ]  # fmt: skip
    return build_store(tmp_path_factory.mktemp("pages"), records)


def rates(db, **params):
    with open_store(db) as con:
        rows = run(con, "task_rates_per_period", {**Filters().params(), **params})
    return [
        (r["period"], r["first_tier"], r["tasks"], r["failed"], r["escalated"],
         r["failure_rate"], r["escalation_rate"])
        for r in rows
    ]  # fmt: skip


def test_rates_per_day_overall(db):
    day = dt.date
    assert rates(db, period="day", by_first_tier=False) == [
        (day(2026, 3, 2), None, 2, 0, 1, 0.0, 0.5),
        (day(2026, 3, 3), None, 1, 1, 0, 1.0, 0.0),
        (day(2026, 3, 9), None, 1, 1, 0, 1.0, 0.0),
    ]


def test_rates_per_week_by_first_tier(db):
    # ISO weeks start on Monday: t1-t3 in the week of 2 March, t4 in the week of 9 March
    day = dt.date
    assert rates(db, period="week", by_first_tier=True) == [
        (day(2026, 3, 2), "haiku", 2, 0, 1, 0.0, 0.5),
        (day(2026, 3, 2), "sonnet", 1, 1, 0, 1.0, 0.0),
        (day(2026, 3, 9), "haiku", 1, 1, 0, 1.0, 0.0),
    ]


def test_rates_agree_with_the_summary_report(db):
    with open_store(db) as con:
        summary = build_report(con, "summary", DEFAULT, Filters())
    week = rates(db, period="week", by_first_tier=False)
    assert sum(r[3] for r in week) / sum(r[2] for r in week) == summary["failure_rate"] == 0.5


def test_escalation_tax_per_day_and_per_task_type(db):
    with open_store(db) as con:
        pricing.register(con, DEFAULT)
        daily = run(con, "escalation_tax", {**Filters().params(), "grain": "day"})
        esc = build_report(con, "escalations", DEFAULT, Filters())
    by_day = {r["day"]: r for r in daily}
    # 2 March: spend t1 + t2's two calls = 0.0036 + 0.0036 + 0.0135; t2's haiku call superseded
    monday = by_day[dt.date(2026, 3, 2)]
    assert monday["spend_usd"] == pytest.approx(2 * HAIKU + SONNET)
    assert monday["superseded_usd"] == pytest.approx(HAIKU)
    assert monday["escalation_tax"] == pytest.approx(HAIKU / (2 * HAIKU + SONNET))
    assert by_day[dt.date(2026, 3, 3)]["escalation_tax"] == 0.0
    assert by_day[dt.date(2026, 3, 9)]["escalation_tax"] == 0.0
    assert all(r["task_type"] is None for r in daily)
    # the report's tax is the whole selection's: 0.0036 / (0.0207 + 0.0135 + 0.0036)
    assert esc["escalation_tax"] == pytest.approx(HAIKU / (3 * HAIKU + 2 * SONNET))
    assert esc["paths"] == {"haiku->sonnet": 1}
    assert esc["reasons"] == {"reviewer_reject": 1}


def test_the_costs_waterfall_goes_from_all_opus_to_realized(db):
    with open_store(db) as con:
        costs = build_report(con, "costs", DEFAULT, Filters())
        pricing.register(con, DEFAULT)
        spend = run(con, "dashboard_daily_spend", Filters().params())
    steps = cost_steps.waterfall(costs, spend, "opus")
    # all-opus: four tasks' last attempts at opus; last attempts as run: h + s + s + h
    assert [name for name, _ in steps] == [
        "all-opus",
        "last attempts on the tiers the planner chose",
        "superseded attempts (retries, escalations)",
        "planner calls",
        "reviewer calls",
    ]
    values = [v for _, v in steps]
    expected = [4 * OPUS, 2 * HAIKU + 2 * SONNET - 4 * OPUS, HAIKU, 0.0, 0.0]
    assert values == pytest.approx(expected)
    assert sum(values) == pytest.approx(costs["realized_usd"]) == pytest.approx(0.0378)


def test_strategies_side_by_side(db):
    with open_store(db) as con:
        costs = build_report(con, "costs", DEFAULT, Filters())
    rows = cost_steps.strategies(costs, ["haiku", "sonnet", "opus"])
    # 2 to 9 March is 8 days; realized 0.0378; all-haiku 4 x 0.0036 = 0.0144
    assert [r["strategy"] for r in rows] == ["all-haiku", "all-sonnet", "all-opus",
                                             "realized (routed)"]  # fmt: skip
    assert rows[0]["usd_per_day"] == pytest.approx(0.0144 / 8)
    assert rows[0]["routing_saves"] == pytest.approx(1 - 0.0378 / 0.0144)  # costs more
    assert rows[2]["routing_saves"] == pytest.approx(1 - 0.0378 / (4 * OPUS))
    assert rows[3]["usd_per_day"] == pytest.approx(0.0378 / 8)
    assert rows[3]["routing_saves"] is None and rows[3]["tier"] is None


def test_what_if_prices_reprice_the_report_and_leave_the_config_alone(db):
    whatif = pricing.with_prices(DEFAULT, {"haiku": (1.0, 5.0, 0.1)}, failure_cost_usd=0.0)
    assert DEFAULT.failure_cost_usd == 50.0 and whatif.failure_cost_usd == 0.0
    with open_store(db) as con:
        costs = build_report(con, "costs", whatif, Filters())
    # haiku now 2,000 x $1/M + 500 x $5/M = $0.0045; three haiku calls, two sonnet
    assert costs["realized_usd"] == pytest.approx(3 * 0.0045 + 2 * SONNET)
    assert [t.price for t in whatif.tiers][1:] == [t.price for t in DEFAULT.tiers][1:]
