"""The committed sample fleet (sample_data/, docs/sample-data.md) loaded through the real
ingest: every planted failure mode must come out of the analysis that looks for it AND of the
recommendations, and the control task types must get none.

What is planted (ingest/sample.py): planner overconfidence on relevance_classification
(Haiku-assigned: 30% rejected, 14% wrong; Sonnet-assigned: 4%, 3.5%); silent underestimation
on company_name_extraction (90% of accepted Haiku answers say >= 0.85 and 8% of those are
wrong); cascade over-routing on feature_extraction (20% of Haiku attempts escalate straight to
Opus); staleness on segment_classification (Sonnet moves from claude-sonnet-4-20250514 to
claude-sonnet-4-5-20250929 on day 16, its failures 5% -> 25%); over-routing on status_check
(always Opus, only the odd errored call). The thresholds here are the design's, not the
output's: e.g. 14% vs 3.5% wrong must give separate intervals with ~2,000 and ~900 tasks.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from fixtures_analytics import json_keys

from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import REPORTS, build_report, report_module

SAMPLE_DATA = Path(__file__).resolve().parent.parent / "sample_data"
DEFAULT = load_config(None)
CONTROLS = (
    "html_extraction",
    "draft_generation",
    "draft_review",
    "publish_gate",
    "theme_identification",
    "executive_summary",
    "summary_review",
    "contract_clause_risk",
)
PLANTED = {
    ("relevance_classification", "tier_up"),
    ("company_name_extraction", "recalibrate_confidence"),
    ("feature_extraction", "fix_escalation_path"),
    ("segment_classification", "rebaseline"),
    ("status_check", "tier_down_candidate"),
}


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    db = tmp_path_factory.mktemp("sample") / "tierwatch.duckdb"
    files = sorted(SAMPLE_DATA.iterdir())
    assert files, "sample_data/ is empty"
    result = ingest_paths(db, files, DEFAULT)
    assert result.totals["rejected"] == 0
    names = ("summary", "tiers", "escalations", "costs", "calibration", "drift")
    names += ("recommendations", "verdict", "simulate", "frontier", "optimize")
    with open_store(db) as con:
        return {name: build_report(con, name, DEFAULT, Filters()) for name in names}


def recommendations(reports) -> dict:
    return {(r["task_type"], r["action"]): r for r in reports["recommendations"]["recommendations"]}


def test_exactly_the_planted_recommendations(reports):
    found = set(recommendations(reports))
    assert found == PLANTED
    assert not {t for t, _ in found} & set(CONTROLS)


def test_planner_overconfidence_on_relevance_classification(reports):
    rows = {
        r["planner_tier"]: r
        for r in reports["tiers"]["by_task_type"]
        if r["task_type"] == "relevance_classification"
    }
    haiku, sonnet = rows["haiku"], rows["sonnet"]
    assert haiku["failure_rate_ci"][0] > sonnet["failure_rate_ci"][1]  # intervals separate
    rec = recommendations(reports)[("relevance_classification", "tier_up")]
    assert (rec["from_tier"], rec["to_tier"]) == ("haiku", "sonnet")
    assert rec["monthly_usd_impact"] < 0  # failures at $50 outweigh the dearer calls
    assert rec["small_sample"] is False


def test_silent_underestimation_on_company_name_extraction(reports):
    silent = reports["calibration"]["silent_failures"]
    top = silent[0]
    assert top["task_type"] == "company_name_extraction"
    # planted on Haiku's accepted answers: nearly all of them were accepted there
    assert top["by_final_tier"]["haiku"] >= 0.9 * top["count"]
    # ~8% of ~90% of its tasks against controls whose wrong answers are rare and mostly
    # low-confidence: its interval lies above every control's
    controls = [s for s in silent if s["task_type"] in CONTROLS]
    assert len(controls) == len(CONTROLS)
    assert top["rate_ci"][0] > max(s["rate_ci"][1] for s in controls)
    assert len(top["example_task_ids"]) == 3
    rec = recommendations(reports)[("company_name_extraction", "recalibrate_confidence")]
    assert rec["from_tier"] == "haiku"
    assert rec["evidence"]["wrong_with_high_confidence"]["ci"][0] > 0.5


def test_cascade_over_routing_on_feature_extraction(reports):
    (row,) = [
        r for r in reports["escalations"]["by_task_type"] if r["task_type"] == "feature_extraction"
    ]
    assert row["paths"].get("haiku->opus", 0) == row["skip_tier_escalations"] > 0
    for r in reports["escalations"]["by_task_type"]:
        if r["task_type"] in CONTROLS:
            assert r["skip_tier_escalations"] == 0, r["task_type"]
    rec = recommendations(reports)[("feature_extraction", "fix_escalation_path")]
    assert (rec["from_tier"], rec["to_tier"], rec["evidence"]["path"]) == (
        "haiku",
        "sonnet",
        "haiku->opus",
    )
    assert rec["monthly_usd_impact"] < 0


def test_staleness_on_segment_classification(reports):
    (change,) = reports["drift"]["model_changes"]
    assert (change["tier"], change["from_model"], change["to_model"], change["at"]) == (
        "sonnet",
        "claude-sonnet-4-20250514",
        "claude-sonnet-4-5-20250929",
        "2026-09-16",
    )
    rows = {r["task_type"]: r for r in change["by_task_type"]}
    seg = rows["segment_classification"]
    # 5% -> 25% planted: at least one of its failure rates rises beyond chance, none falls
    assert seg["changed"] and seg["worse"] and not seg["better"]
    assert seg["after"]["failure_rate"] > seg["before"]["failure_rate"]
    for name in CONTROLS:
        if name in rows:
            assert not rows[name]["changed"], name
    rec = recommendations(reports)[("segment_classification", "rebaseline")]
    assert rec["evidence"]["model_change"]["at"] == "2026-09-16"


def test_over_routing_on_status_check(reports):
    (evidence,) = [e for e in reports["drift"]["evidence"] if e["task_type"] == "status_check"]
    assert evidence["routed_tier"] == "opus" and evidence["baseline_tasks"] == 0
    rec = recommendations(reports)[("status_check", "tier_down_candidate")]
    assert "run a baseline on the lower tier" in rec["reason"]
    assert rec["monthly_usd_impact"] is None  # no evidence on the lower tier, no saving claimed


def test_verdict_on_the_sample(reports):
    verdict = reports["verdict"]
    c = {x["name"]: x for x in verdict["conditions"]}
    # about 500 tasks a day on three tiers, every accepted attempt with a confidence
    assert c["volume"]["met"] and 450 < c["volume"]["value"] < 550
    assert c["heterogeneous"]["value"] == 3
    assert c["quality_signal_confidence"]["value"] == 1.0
    assert c["quality_signal_outcome"]["met"]
    # Opus carries >= 5% of the tasks (status_check, publish_gate, contract_clause_risk), so
    # the saving is measured against all-Opus: positive, and weighed against the setting
    assert verdict["baseline_tier"] == "opus"
    assert c["saving"]["value"] > 0
    assert c["saving"]["threshold"] == DEFAULT.setting("engineering_usd_per_month")
    assert verdict["route"] is all(x["met"] for x in verdict["conditions"])


DATA_KEYED = {"by_final_tier", "monthly_saving_usd_vs", "unit_cost_usd"}  # tier -> value maps


@pytest.mark.parametrize(
    "name",
    ["calibration", "drift", "recommendations", "verdict", "simulate", "frontier", "optimize"],
)
def test_every_json_key_is_documented(reports, name):
    docs = (Path(__file__).resolve().parent.parent / "docs" / "reports.md").read_text("utf-8")
    section = docs.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
    common = {"report", "filters", "empty", "since", "until", "fleets", "task_types"}
    missing = sorted(
        k for k in json_keys(reports[name], DATA_KEYED) - common if f"`{k}`" not in section
    )
    assert not missing, f"docs/reports.md ## {name} does not document {missing}"


def numbers_in(result: dict) -> set[str]:
    """The keys holding a number at the top level of a report result or in a row of one of
    its top-level lists: where --fail-on looks (docs/reports.md)."""
    rows = [result] + [r for v in result.values() if isinstance(v, list) for r in v]
    return {
        k
        for row in rows
        if isinstance(row, dict)
        for k, v in row.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


@pytest.mark.parametrize("name", list(REPORTS))
def test_each_reports_gate_keys_are_the_numbers_it_gives(reports, name):
    # --fail-on checks a key against NUMBERS even when the store is empty, so NUMBERS must be
    # exactly the numbers the report gives on a fleet that has every finding
    assert report_module(name).NUMBERS == numbers_in(reports[name]), name
