"""Realized vs counterfactual cost on a small fleet worked out by hand."""

from __future__ import annotations

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, build_store, hostile_records, small_fleet_records

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)

# Prices per million tokens (input / cached input / output): haiku 0.80 / 0.08 / 4,
# sonnet 3 / 0.30 / 15, opus 15 / 1.50 / 75.
# Attempts of small_fleet_records():
#   plan1 planner sonnet 1000 in, 200 out: 1000*3 + 200*15 = 6000      -> $0.006
#   t1    haiku 2000/500: 2000*0.8 + 500*4 = 3600                      -> $0.0036
#   t2    haiku 2000/500 (failed)                                      -> $0.0036
#   t2    sonnet 2000/500: 2000*3 + 500*15 = 13500                     -> $0.0135
#   t3    opus, cost_usd logged                                        -> $0.2
#   t3    reviewer sonnet 1000/100: 1000*3 + 100*15 = 4500             -> $0.0045
# realized = 0.006 + 0.0036 + 0.0036 + 0.0135 + 0.2 + 0.0045 = 0.2312 over 1..3 March = 3 days
REALIZED = 0.2312


@pytest.fixture(scope="module")
def small_db(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("costs"), small_fleet_records())


def costs(db, **filters):
    with open_store(db) as con:
        return build_report(con, "costs", DEFAULT, Filters.parse(**filters))


def test_realized_overhead_and_per_day(small_db):
    c = costs(small_db)
    assert c["days"] == 3 and (c["first_day"], c["last_day"]) == ("2026-03-01", "2026-03-03")
    assert c["tasks"] == 3 and c["attempts"] == 6 and c["unpriced_attempts"] == 0
    assert c["realized_usd"] == pytest.approx(REALIZED)
    assert c["realized_usd_per_day"] == pytest.approx(REALIZED / 3)  # 0.077067
    assert c["realized_usd_per_month"] == pytest.approx(REALIZED / 3 * 30)  # 2.312
    assert c["overhead_usd"] == {"planner": pytest.approx(0.006), "reviewer": pytest.approx(0.0045)}
    # overhead share: 0.0105 / 0.2312
    assert c["overhead_share"] == pytest.approx(0.0105 / 0.2312)


def test_counterfactual_per_tier_uses_each_tasks_last_attempt(small_db):
    c = costs(small_db)
    # last attempts: t1 2000/500, t2 2000/500 (its sonnet call), t3 4000 in (2000 cached)/1000
    # haiku:  3600 + 3600 + (2000*0.8 + 2000*0.08 + 1000*4 = 5760)    = 12960  -> $0.01296
    # sonnet: 13500 + 13500 + (2000*3 + 2000*0.3 + 1000*15 = 21600)   = 48600  -> $0.0486
    # opus:   67500 + 67500 + (2000*15 + 2000*1.5 + 1000*75 = 108000) = 243000 -> $0.243
    assert c["counterfactual_usd"] == {
        "haiku": pytest.approx(0.01296),
        "sonnet": pytest.approx(0.0486),
        "opus": pytest.approx(0.243),
    }
    assert c["counterfactual_usd_per_day"]["opus"] == pytest.approx(0.081)  # 0.243 / 3
    assert c["counterfactual_usd_per_month"]["opus"] == pytest.approx(2.43)  # 0.081 * 30
    # savings: 1 - 0.2312/0.243 = 0.04856; 1 - 0.2312/0.0486 = -3.7572; 1 - 0.2312/0.01296
    assert c["savings_vs"]["opus"] == pytest.approx(1 - 0.2312 / 0.243)
    assert c["savings_vs"]["sonnet"] == pytest.approx(-3.757202, abs=1e-6)
    assert c["savings_vs"]["haiku"] == pytest.approx(-16.839506, abs=1e-6)


def test_cost_per_success_and_failure_adjusted(small_db):
    c = costs(small_db)
    # t3 was found wrong downstream: 2 successful tasks; 0.2312 / 2 = 0.1156
    assert c["successful_tasks"] == 2 and c["downstream_failures"] == 1
    assert c["cost_per_successful_task_usd"] == pytest.approx(0.1156)
    # + $50 per downstream failure: 0.2312 + 50 = 50.2312, per day 16.7437
    assert c["failure_adjusted_usd"] == pytest.approx(50.2312)
    assert c["failure_adjusted_usd_per_day"] == pytest.approx(50.2312 / 3)


def test_by_task_type(small_db):
    rows = {r["task_type"]: r for r in costs(small_db)["by_task_type"]}
    # review_doc: 0.2 + reviewer 0.0045 = 0.2045; opus counterfactual 0.108
    # extract: 0.0036 + 0.0036 + 0.0135 = 0.0207; opus counterfactual 0.135
    # planning: the planner call only, 0.006; no executor tasks, no counterfactual
    assert [r["task_type"] for r in costs(small_db)["by_task_type"]] == [
        "review_doc",
        "extract",
        "planning",
    ]
    assert rows["review_doc"]["realized_usd"] == pytest.approx(0.2045)
    assert rows["review_doc"]["overhead_usd"] == pytest.approx(0.0045)
    assert rows["review_doc"]["savings_vs"]["opus"] == pytest.approx(1 - 0.2045 / 0.108)
    assert rows["extract"]["tasks"] == 2
    assert rows["extract"]["savings_vs"]["opus"] == pytest.approx(1 - 0.0207 / 0.135)  # 0.8467
    assert rows["extract"]["cost_per_successful_task_usd"] == pytest.approx(0.0207 / 2)
    assert rows["planning"]["tasks"] == 0 and rows["planning"]["savings_vs"]["opus"] is None
    assert rows["planning"]["realized_usd"] == pytest.approx(0.006)


def test_dates_select_attempts_for_spend_and_task_days_for_tasks(small_db):
    c = costs(small_db, since="2026-03-02")
    # only 3 March's calls: t3 $0.2 + its reviewer $0.0045, one day
    assert c["days"] == 1 and c["tasks"] == 1
    assert c["realized_usd"] == pytest.approx(0.2045)
    assert c["counterfactual_usd"]["opus"] == pytest.approx(0.108)
    c = costs(small_db, until="2026-03-01", task_types=["extract"])
    # extract on 1 March: 0.0207, one day, cost per day 0.0207
    assert c["days"] == 1 and c["realized_usd_per_day"] == pytest.approx(0.0207)


def test_text_shows_the_strategy_table(small_db):
    text = render_text("costs", costs(small_db))
    assert "all-opus" in text and "realized (routed)" in text and "planner $0.0060" in text


def test_hostile_names_through_every_filter(tmp_path):
    db = build_store(tmp_path, hostile_records())
    with open_store(db) as con:
        for name in HOSTILE_TASK_TYPES:
            for f in (Filters(task_types=(name,)), Filters(fleets=(name,))):
                c = build_report(con, "costs", DEFAULT, f)
                # one task: haiku 0.0036 + sonnet 0.0135 = 0.0171
                assert c["tasks"] == 1 and c["realized_usd"] == pytest.approx(0.0171), (name, f)
                assert [r["task_type"] for r in c["by_task_type"]] == [name]
