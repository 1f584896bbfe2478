"""The verdict (should this fleet route?) on a two-day fleet worked out by hand."""

from __future__ import annotations

import dataclasses

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, attempt, build_store, downstream, hostile_records

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters, QueryError
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)


def records() -> list[dict]:
    """1-2 March. ext: 8 haiku tasks a day with confidence 0.9, one found wrong downstream.
    law: 2 opus tasks a day without confidence; one is reviewed by a sonnet call of 1000
    input and 100 output tokens. Executor calls are 2,000 in / 500 out."""
    recs = []
    for day in (1, 2):
        for i in range(8):
            recs.append(attempt(f"ext{day}-{i}", f"2026-03-0{day}T09:{i:02d}:00Z", "ext", "haiku",
                                planner_tier="haiku", confidence=0.9))  # fmt: skip
        for i in range(2):
            recs.append(attempt(f"law{day}-{i}", f"2026-03-0{day}T10:{i:02d}:00Z", "law", "opus",
                                planner_tier="opus"))  # fmt: skip
    recs.append(downstream("ext1-0", "2026-03-02T12:00:00Z"))
    recs.append(attempt("law1-0", "2026-03-01T10:30:00Z", "law", "sonnet", role="reviewer",
                        input_tokens=1000, output_tokens=100))  # fmt: skip
    return recs


# Spend: ext 16 x haiku (2000*0.8 + 500*4 = 3600 -> $0.0036) = $0.0576;
# law 4 x opus (2000*15 + 500*75 = 67500 -> $0.0675) = $0.27; review 1000*3 + 100*15 -> $0.0045.
# Realized $0.3321 over 2 days -> per month (x 30 / 2 = x 15) $4.9815.
# All-opus: 20 tasks x $0.0675 = $1.35 -> $20.25 a month. Saving vs all-opus 20.25 - 4.9815.
REALIZED_MONTH = 4.9815
SAVING_VS_OPUS = 20.25 - 4.9815  # 15.2685


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("verdict"), records())


def settings(**values):
    return dataclasses.replace(DEFAULT, settings={**DEFAULT.settings, **values})


def verdict(db, config=DEFAULT, filters=None, **options):
    with open_store(db) as con:
        return build_report(con, "verdict", config, filters or Filters(), **options)


def conditions(result) -> dict:
    return {c["name"]: c for c in result["conditions"]}


def test_each_condition_by_hand(db):
    result = verdict(db, settings(min_tasks_per_day=9.0), engineering_usd_per_month=15)
    c = conditions(result)
    assert list(c) == [
        "volume",
        "heterogeneous",
        "quality_signal_outcome",
        "quality_signal_confidence",
        "saving",
    ]
    # 20 tasks over 2 days = 10 a day > 9
    assert (c["volume"]["value"], c["volume"]["threshold"], c["volume"]["met"]) == (10, 9, True)
    # ext is routed to haiku (16 of 20 tasks, 80%), law to opus (4, 20%): 2 tiers >= 5%
    assert (c["heterogeneous"]["value"], c["heterogeneous"]["met"]) == (2, True)
    # outcome: ext has a downstream failure report and law a reviewer call, so both types
    # have a quality check: 20 of 20 tasks
    assert c["quality_signal_outcome"]["value"] == pytest.approx(1.0)
    # confidence: the 16 ext tasks of 20 = 0.8
    assert c["quality_signal_confidence"]["value"] == pytest.approx(0.8)
    # baseline: opus, the most capable tier carrying >= 5% of the tasks
    assert result["baseline_tier"] == "opus"
    assert c["saving"]["value"] == pytest.approx(SAVING_VS_OPUS)
    assert c["saving"]["threshold"] == 15 and c["saving"]["met"] is True
    assert result["route"] is True
    # against every tier: haiku 20 x 0.0036 x 15 = 1.08, sonnet 20 x 0.0135 x 15 = 4.05
    assert result["monthly_saving_usd_vs"] == {
        "haiku": pytest.approx(1.08 - REALIZED_MONTH),
        "sonnet": pytest.approx(4.05 - REALIZED_MONTH),
        "opus": pytest.approx(SAVING_VS_OPUS),
    }


def test_settings_are_the_thresholds(db):
    result = verdict(db, settings(min_tasks_per_day=300.0, engineering_usd_per_month=2000.0))
    c = conditions(result)
    # 10 a day is not more than 300; $15.27 is not more than $2,000
    assert c["volume"]["met"] is False and c["volume"]["threshold"] == 300
    assert c["saving"]["met"] is False and c["saving"]["threshold"] == 2000
    assert result["route"] is False
    assert render_text("verdict", result).startswith("DO NOT ROUTE")
    # without an option the config's setting is used, whatever its default
    default = conditions(verdict(db))["saving"]["threshold"]
    assert default == DEFAULT.setting("engineering_usd_per_month")


def test_volume_must_exceed_the_threshold(db):
    c = conditions(verdict(db, settings(min_tasks_per_day=10.0), engineering_usd_per_month=0))
    assert c["volume"]["met"] is False  # 10 a day is not more than 10


def test_engineering_cost_option_and_baseline_option(db):
    result = verdict(db, settings(min_tasks_per_day=9.0), engineering_usd_per_month=16)
    assert conditions(result)["saving"]["met"] is False  # 15.27 < 16
    assert result["route"] is False
    result = verdict(db, baseline_tier="Sonnet")
    assert result["baseline_tier"] == "sonnet"
    assert conditions(result)["saving"]["value"] == pytest.approx(4.05 - REALIZED_MONTH)
    with pytest.raises(QueryError, match="unknown baseline tier 'gpt'"):
        verdict(db, baseline_tier="gpt")
    with pytest.raises(QueryError, match="must be a number >= 0"):
        verdict(db, engineering_usd_per_month=-1)


def test_one_tier_fleet_is_not_heterogeneous(db):
    result = verdict(db, filters=Filters(task_types=("ext",)))
    c = conditions(result)
    assert (c["heterogeneous"]["value"], c["heterogeneous"]["met"]) == (1, False)
    # 16 tasks over 2 days; baseline haiku: 16 x 0.0036 x 15 = 0.864 - 0.0576 x 15 = 0
    assert c["volume"]["value"] == 8
    assert c["quality_signal_outcome"]["value"] == 1.0  # ext's downstream report
    assert result["baseline_tier"] == "haiku"
    assert c["saving"]["value"] == pytest.approx(0.0)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("hostile"), hostile_records())


@pytest.mark.parametrize("name", HOSTILE_TASK_TYPES)
def test_hostile_names_through_filters(hostile_db, name):
    for filters in (Filters(task_types=(name,)), Filters(fleets=(name,))):
        c = conditions(verdict(hostile_db, filters=filters))
        # one task, escalated haiku -> sonnet after a failed first attempt, on 1 day
        assert c["volume"]["value"] == 1
        assert c["quality_signal_outcome"]["value"] == 1.0  # its type has a rejection
        assert c["quality_signal_confidence"]["value"] == 0.0


def test_a_type_without_any_check_has_no_outcome(tmp_path):
    # ok: 3 tasks, no reviewer, no rejection, no downstream report; checked: 1 task rejected
    recs = [attempt(f"ok{i}", f"2026-03-01T09:0{i}:00Z", "ok", "haiku") for i in range(3)]
    recs.append(attempt("chk", "2026-03-01T10:00:00Z", "checked", "haiku", status="failed"))
    with open_store(build_store(tmp_path, recs)) as con:
        c = conditions(build_report(con, "verdict", DEFAULT, Filters()))
    # 1 of 4 tasks is of a type with a quality check: 0.25 < 0.5
    assert c["quality_signal_outcome"]["value"] == 0.25
    assert c["quality_signal_outcome"]["met"] is False
