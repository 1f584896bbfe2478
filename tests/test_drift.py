"""Drift and staleness on a fleet whose Sonnet model changes on day 5, worked out by hand."""

from __future__ import annotations

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, attempt, build_store, downstream, hostile_records

from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report

DEFAULT = load_config(None)


def records() -> list[dict]:
    """8 days, 1-8 March. Sonnet runs `sonnet-a` on days 1-4 and `sonnet-b` from day 5; one
    `sonnet-canary` call on day 3 never runs most of a day's calls.
    - seg (sonnet): 10 tasks a day; from day 5, 5 a day are found wrong downstream;
    - ctl (sonnet): 10 tasks a day; on days 1 and 5 one of them fails downstream;
    - rare (sonnet): one task on days 1, 2, 6, 7, 8;
    - ext (haiku): one task a day; old (haiku): one task on days 1 and 2.
    """
    recs = []
    for day in range(1, 9):
        model = "sonnet-a" if day <= 4 else "sonnet-b"
        for i in range(10):
            ts = f"2026-03-0{day}T10:{i:02d}:00Z"
            recs.append(attempt(f"seg{day}-{i}", ts, "seg", "sonnet", model=model,
                                planner_tier="sonnet"))  # fmt: skip
            if day >= 5 and i < 5:
                recs.append(downstream(f"seg{day}-{i}", f"2026-03-0{day}T20:00:00Z"))
            recs.append(attempt(f"ctl{day}-{i}", ts, "ctl", "sonnet", model=model,
                                planner_tier="sonnet"))  # fmt: skip
            if day in (1, 5) and i == 0:
                recs.append(downstream(f"ctl{day}-{i}", f"2026-03-0{day}T20:00:00Z"))
        if day in (1, 2, 6, 7, 8):
            recs.append(attempt(f"rare{day}", f"2026-03-0{day}T11:00:00Z", "rare", "sonnet",
                                model=model, planner_tier="sonnet"))  # fmt: skip
        recs.append(attempt(f"ext{day}", f"2026-03-0{day}T12:00:00Z", "ext", "haiku",
                            model="haiku-1", planner_tier="haiku"))  # fmt: skip
        if day <= 2:
            recs.append(attempt(f"old{day}", f"2026-03-0{day}T12:30:00Z", "old", "haiku",
                                model="haiku-1", planner_tier="haiku"))  # fmt: skip
    recs.append(attempt("canary", "2026-03-03T13:00:00Z", "ctl", "sonnet", model="sonnet-canary",
                        planner_tier="sonnet"))  # fmt: skip
    return recs


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("drift"), records())


def drift(db, **options):
    with open_store(db) as con:
        return build_report(con, "drift", DEFAULT, Filters(), **options)


def test_model_versions_with_first_last_and_main_since(db):
    versions = {(v["tier"], v["model"]): v for v in drift(db)["model_versions"]}
    assert set(versions) == {
        ("haiku", "haiku-1"),
        ("sonnet", "sonnet-a"),
        ("sonnet", "sonnet-b"),
        ("sonnet", "sonnet-canary"),
    }
    a, b, canary = (versions[("sonnet", m)] for m in ("sonnet-a", "sonnet-b", "sonnet-canary"))
    # sonnet-a: 20 calls a day on days 1-4 + rare1, rare2 = 82
    assert (a["first_day"], a["last_day"], a["attempts"]) == ("2026-03-01", "2026-03-04", 82)
    assert a["dominant_since"] == "2026-03-01"
    # sonnet-b: 20 a day on days 5-8 + rare6, rare7, rare8 = 83
    assert (b["first_day"], b["last_day"], b["attempts"]) == ("2026-03-05", "2026-03-08", 83)
    assert b["dominant_since"] == "2026-03-05"
    assert canary["dominant_since"] is None  # 1 call against sonnet-a's 20 on day 3
    assert canary["share"] == pytest.approx(1 / 166)  # 82 + 83 + 1 sonnet calls


def test_one_change_with_before_after_by_hand(db):
    (change,) = drift(db)["model_changes"]
    assert (change["tier"], change["from_model"], change["to_model"], change["at"]) == (
        "sonnet",
        "sonnet-a",
        "sonnet-b",
        "2026-03-05",
    )
    rows = {r["task_type"]: r for r in change["by_task_type"]}
    assert sorted(rows) == ["ctl", "rare", "seg"]  # the types assigned to sonnet

    seg = rows["seg"]
    # before: 40 tasks, 0 failed. Wilson 0/40: centre = (1.96^2/80) / (1 + 1.96^2/40)
    #   = 0.04802 / 1.09604 = 0.04381, half the same: [0, 0.0876]
    assert (seg["before"]["tasks"], seg["before"]["failures"]) == (40, 0)
    assert seg["before"]["failure_rate_ci"] == pytest.approx([0.0, 0.0876], abs=1e-4)
    # after: 40 tasks, 20 failed downstream. Wilson 20/40: centre 0.5,
    #   half = 1.96 * sqrt(0.25/40 + 1.96^2/6400) / 1.09604 = 0.16222 / 1.09604 = 0.14801
    assert (seg["after"]["tasks"], seg["after"]["failures"]) == (40, 20)
    assert seg["after"]["failure_rate"] == 0.5
    assert seg["after"]["failure_rate_ci"] == pytest.approx([0.3520, 0.6480], abs=1e-4)
    # 0.0876 < 0.3520: separated; nothing failed on its first attempt or escalated
    assert seg["separated"] == {
        "failure": True,
        "first_pass_failure": False,
        "escalation": False,
    }
    # Three types compared x three metrics = 9 comparisons: z for 5% / 9 two-sided is
    # Phi^-1(1 - 0.05/18) = Phi^-1(0.99722) = 2.77 (normal table). At z = 2.77:
    #   0/40 top: (2.77^2/80) / (1 + 2.77^2/40) * 2 = 0.0959/1.1918 * 2 = 0.161
    #   20/40 bottom: 0.5 - 2.77 * sqrt(0.25/40 + 2.77^2/6400) / 1.1918 = 0.5 - 0.2006 = 0.299
    # 0.161 < 0.299: still separate, so the change is significant, not a chance finding
    assert change["family_z"] == pytest.approx(2.77, abs=0.005)
    assert seg["significant"]["failure"] is True
    assert seg["changed"] is True and seg["worse"] == ["failure"]

    ctl = rows["ctl"]
    # before: 40 + the canary call = 41 tasks, 1 failure; after: 40 tasks, 1 failure
    assert (ctl["before"]["tasks"], ctl["before"]["failures"]) == (41, 1)
    assert (ctl["after"]["tasks"], ctl["after"]["failures"]) == (40, 1)
    assert ctl["changed"] is False

    rare = rows["rare"]
    assert (rare["before"]["tasks"], rare["after"]["tasks"]) == (2, 3)
    assert rare["small_sample"] is True and rare["changed"] is False


def test_evidence_age_and_stale_flags(db):
    evidence = {e["task_type"]: e for e in drift(db)["evidence"]}
    seg = evidence["seg"]
    assert seg["routed_tier"] == "sonnet" and seg["evidence_tasks"] == 80
    assert (seg["evidence_first_day"], seg["evidence_last_day"], seg["as_of"]) == (
        "2026-03-01",
        "2026-03-08",
        "2026-03-08",
    )
    assert seg["evidence_age_days"] == 0
    assert (seg["current_model"], seg["current_model_since"]) == ("sonnet-b", "2026-03-05")
    # the version changed after its evidence began, but 40 >= 30 tasks ran on sonnet-b since
    assert seg["version_changed_since_evidence"] is True
    assert seg["tasks_on_current_model"] == 40 and seg["stale"] is False
    assert (seg["baseline_tier"], seg["baseline_tasks"]) == ("haiku", 0)

    rare = evidence["rare"]
    # only rare6, rare7, rare8 ran on sonnet-b: 3 < 30
    assert rare["tasks_on_current_model"] == 3 and rare["stale"] is True
    assert "only 3 tasks since" in rare["stale_reasons"][0]

    old = evidence["old"]
    # newest observation 2 March, newest day of the selection 8 March: 6 days
    assert old["evidence_age_days"] == 6 and old["stale"] is False  # default: 90 days
    assert old["baseline_tier"] is None  # haiku is the cheapest tier


def test_stale_after_days_option_and_setting(db):
    evidence = {e["task_type"]: e for e in drift(db, stale_after_days=5)["evidence"]}
    assert evidence["old"]["stale"] is True  # 6 > 5
    assert evidence["old"]["stale_reasons"] == ["newest observation is 6 days old (> 5)"]
    assert evidence["ext"]["stale"] is False  # 0 days
    assert drift(db)["settings"]["stale_after_days"] == 90


def test_no_change_without_a_second_model(db):
    with open_store(db) as con:
        result = build_report(con, "drift", DEFAULT, Filters.parse(until="2026-03-04"))
    assert result["model_changes"] == []
    assert "No tier changed its model version" in render_text("drift", result)


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory):
    return build_store(tmp_path_factory.mktemp("hostile"), hostile_records())


@pytest.mark.parametrize("name", HOSTILE_TASK_TYPES)
def test_hostile_task_type_and_fleet_filters(hostile_db, name):
    with open_store(hostile_db) as con:
        for filters in (Filters(task_types=(name,)), Filters(fleets=(name,))):
            result = build_report(con, "drift", DEFAULT, filters)
            (e,) = result["evidence"]
            assert (e["task_type"], e["routed_tier"], e["evidence_tasks"]) == (name, "haiku", 1)
            # one haiku and one sonnet call, neither with a model id
            assert [(v["tier"], v["model"], v["attempts"]) for v in result["model_versions"]] == [
                ("haiku", "(not given)", 1),
                ("sonnet", "(not given)", 1),
            ]
    assert name in render_text("drift", result)


def test_a_chance_separation_among_many_types_is_not_a_change():
    from tierwatch.queries.drift import compare, family_z

    # first-pass failures 1 of 74 before, 10 of 73 after, with 7 task types x 3 metrics
    # compared at the same change. 95% intervals: [0.0024, 0.0727] and [0.0761, 0.2341]:
    # separate. At z = Phi^-1(1 - 0.05/42) = 3.04 (normal table):
    #   1/74 top = (0.0135 + 9.24/148) / 1.1249 + 3.04 * 0.0245 / 1.1249 = 0.0675 + 0.0663 = 0.134
    #   10/73 bottom = (0.137 + 9.24/146) / 1.1266 - 3.04 * 0.0453 / 1.1266 = 0.178 - 0.122 = 0.056
    # 0.056 < 0.134: they overlap, so this is no evidence of a change.
    z = family_z(21)
    assert z == pytest.approx(3.04, abs=0.01)
    row = {"task_type": "draft", "before_tasks": 74, "after_tasks": 73}
    for side, fp in (("before", 1), ("after", 10)):
        row |= {f"{side}_failures": 0, f"{side}_first_pass_failures": fp, f"{side}_escalated": 0}
    result = compare(row, z)
    assert result["separated"]["first_pass_failure"] is True
    assert result["significant"]["first_pass_failure"] is False
    assert result["changed"] is False and result["worse"] == []


def test_rollups_follow_new_data_on_one_connection(tmp_path):
    from fixtures_analytics import write_jsonl

    from tierwatch.ingest.load import ingest_file

    first = [attempt("a1", "2026-03-01T10:00:00Z", "x", "sonnet", model="s-1")]
    later = [attempt("a2", "2026-03-02T10:00:00Z", "x", "sonnet", model="s-2")]
    db = build_store(tmp_path, first)
    with open_store(db, read_only=False) as con:
        before = build_report(con, "drift", DEFAULT, Filters())
        assert before["model_changes"] == []
        ingest_file(con, write_jsonl(tmp_path / "later.jsonl", later), DEFAULT)
        after = build_report(con, "drift", DEFAULT, Filters())
    # the rolled-up model days were rebuilt: s-2 runs day 2, a change from s-1
    (change,) = after["model_changes"]
    assert (change["from_model"], change["to_model"], change["at"]) == ("s-1", "s-2", "2026-03-02")
