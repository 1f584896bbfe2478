"""`tierwatch report` end to end through click: JSON keys, messages, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner
from fixtures_analytics import build_store, empty_store, json_keys, small_fleet_records

from tierwatch.cli.main import main
from tierwatch.queries.report import REPORTS


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return str(build_store(tmp_path_factory.mktemp("cli"), small_fleet_records()))


def report(*args):
    result = CliRunner().invoke(main, ["report", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.output
    return result


def as_json(db, name, *args):
    result = report(name, "--db", db, "--json", *args)
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def test_costs_json_keys(db):
    c = as_json(db, "costs")
    for key in (
        "days", "tasks", "realized_usd", "realized_usd_per_day", "counterfactual_usd",
        "counterfactual_usd_per_day", "savings_vs", "overhead_usd", "unpriced_attempts",
        "by_task_type",
    ):  # fmt: skip
        assert key in c, key
    assert set(c["counterfactual_usd"]) == set(c["savings_vs"]) == {"haiku", "sonnet", "opus"}
    assert set(c["overhead_usd"]) == {"planner", "reviewer"}
    assert c["report"] == "costs" and c["empty"] is False


def test_tiers_json_keys(db):
    t = as_json(db, "tiers")
    for rows in (t["by_planner_tier"], t["by_task_type"], t["by_executed_tier"]):
        assert rows
        for row in rows:
            for key in (
                "tasks", "first_pass_failure_rate", "failure_rate", "failure_rate_ci",
                "downstream_failure_rate", "escalation_rate", "small_sample",
            ):  # fmt: skip
                assert key in row, key
            assert len(row["failure_rate_ci"]) == 2
    assert all("planner_tier" in r for r in t["by_planner_tier"])
    assert all({"planner_tier", "task_type"} <= set(r) for r in t["by_task_type"])
    assert all("executed_tier" in r for r in t["by_executed_tier"])


def test_escalations_and_summary_json_keys(db):
    e = as_json(db, "escalations")
    (extract,) = [r for r in e["by_task_type"] if r["task_type"] == "extract"]
    for key in (
        "task_type", "tasks", "escalation_rate", "retry_rate", "skip_tier_escalations",
        "escalation_tax", "rescue_rate", "paths",
    ):  # fmt: skip
        assert key in extract, key
    assert extract["paths"] == {"haiku->sonnet": 1}
    s = as_json(db, "summary", "--since", "2026-03-01", "--until", "2026-03-01")
    # only 1 March: t1 and t2
    assert s["tasks"] == 2 and s["filters"]["until"] == "2026-03-01"


def test_filters_are_passed_through(db):
    c = as_json(db, "costs", "--task-type", "extract", "--task-type", "review_doc")
    assert sorted(r["task_type"] for r in c["by_task_type"]) == ["extract", "review_doc"]
    c = as_json(db, "costs", "--fleet", "nope")
    assert c["empty"] is True


@pytest.mark.parametrize("name", list(REPORTS))
def test_every_report_prints_text_and_valid_json(db, name):
    text = report(name, "--db", db)
    assert text.exit_code == 0, text.output
    assert text.stdout.strip()
    result = as_json(db, name)
    assert result["report"] == name


def test_empty_database_is_a_plain_message_and_exit_0(tmp_path):
    db = str(empty_store(tmp_path))
    result = report("summary", "--db", db)
    assert result.exit_code == 0
    assert result.stdout.strip() == (
        "The database holds no attempts yet; load logs first: tierwatch ingest PATH"
    )
    assert json.loads(report("costs", "--db", db, "--json").stdout)["empty"] is True


def test_empty_selection_is_a_plain_message_and_exit_0(db):
    result = report("tiers", "--db", db, "--since", "2027-01-01")
    assert result.exit_code == 0 and "No tasks or attempts match" in result.stdout


def test_bad_dates_exit_2_with_a_clear_message(db):
    result = report("costs", "--db", db, "--since", "2026-02-30")
    assert result.exit_code == 2
    assert "--since is '2026-02-30', must be a date like 2026-03-01" in result.stderr
    assert "Traceback" not in result.output
    result = report("costs", "--db", db, "--since", "2026-03-05", "--until", "2026-03-01")
    assert result.exit_code == 2 and "after --until" in result.stderr


def test_a_config_with_unknown_tiers_exits_2(db, tmp_path):
    config = tmp_path / "tierwatch.toml"
    config.write_text(
        '[[tiers]]\nname = "small"\ninput_usd_per_mtok = 1\noutput_usd_per_mtok = 2\n'
        '[[tiers]]\nname = "large"\ninput_usd_per_mtok = 3\noutput_usd_per_mtok = 4\n'
    )
    result = report("costs", "--db", db, "--config", str(config))
    assert result.exit_code == 2
    assert "unknown tier 'haiku'" in result.stderr and "--config" in result.stderr


def test_a_missing_database_exits_2(tmp_path):
    result = report("costs", "--db", str(tmp_path / "none.duckdb"))
    assert result.exit_code == 2 and "tierwatch ingest" in result.stderr


def test_unknown_report_name_is_a_usage_error(db):
    result = report("nope", "--db", db)
    assert result.exit_code == 2 and "nope" in result.output


DOCS = __import__("pathlib").Path(__file__).resolve().parent.parent / "docs"
# objects keyed by data (tier names, paths, reasons), not by documented keys
DATA_KEYED = {
    "counterfactual_usd", "counterfactual_usd_per_day", "counterfactual_usd_per_month",
    "savings_vs", "savings_usd_per_month_vs", "paths", "reasons",
}  # fmt: skip


@pytest.mark.parametrize("name", ["summary", "tiers", "escalations", "costs"])
def test_every_json_key_is_documented(db, name):
    docs = (DOCS / "reports.md").read_text("utf-8")
    section = docs.split(f"\n## {name}\n", 1)[1].split("\n## ", 1)[0]
    common = {"report", "filters", "empty", "since", "until", "fleets", "task_types"}
    result = as_json(db, name)
    missing = sorted(k for k in json_keys(result, DATA_KEYED) - common if f"`{k}`" not in section)
    assert not missing, f"docs/reports.md ## {name} does not document {missing}"


def test_every_report_has_docs_and_help():
    reports_md = (DOCS / "reports.md").read_text("utf-8")
    metrics_md = (DOCS / "metrics.md").read_text("utf-8")
    help_text = report("--help").stdout
    for name in REPORTS:
        assert f"\n## {name}\n" in reports_md, name
        assert name in help_text, name
    for heading in ("Summary", "Tiers", "Escalations", "Costs", "Calibration", "Drift",
                    "Recommendations", "Verdict"):  # fmt: skip
        assert f"\n## {heading}" in metrics_md, heading
    assert "(to be written" not in reports_md + metrics_md


def test_fail_on_gate_exits_1_and_names_the_rows(db):
    # extract: t2 escalated, t1 not -> 1 of 2 = 0.5; review_doc 0 of 1; overall 1 of 3 = 0.333
    result = report("escalations", "--db", db, "--fail-on", "escalation_rate>0.4")
    assert result.exit_code == 1
    assert "escalation_rate 0.5 > 0.4 (small sample)" in result.stderr
    assert "'extract'" in result.stderr and "review_doc" not in result.stderr
    assert "overall" not in result.stderr  # 0.333 is not > 0.4
    assert "Escalation hotspots" in result.stdout  # the report is still printed
    ok = report("escalations", "--db", db, "--fail-on", "escalation_rate>0.6", "--json")
    assert ok.exit_code == 0 and json.loads(ok.stdout)["report"] == "escalations"
    # the whole selection: 1 of 3 = 0.333 >= 0.3 at the top level too
    result = report("summary", "--db", db, "--fail-on", "escalation_rate>=0.3")
    assert result.exit_code == 1 and "overall: escalation_rate 0.333333 >= 0.3" in result.stderr


def test_fail_on_mistakes_exit_2(db):
    result = report("costs", "--db", db, "--fail-on", "realized_usd=1")
    assert result.exit_code == 2 and "is not a condition; write KEY>NUMBER" in result.stderr
    result = report("costs", "--db", db, "--fail-on", "escalation_rate>0.1")
    assert result.exit_code == 2
    assert "the costs report has no number 'escalation_rate'" in result.stderr
    assert "realized_usd" in result.stderr  # it lists what can be gated on


def test_hostile_names_through_the_command_line(tmp_path):
    from fixtures_analytics import HOSTILE_TASK_TYPES, hostile_records

    db = str(build_store(tmp_path, hostile_records()))
    for name in HOSTILE_TASK_TYPES:
        for option in ("--task-type", "--fleet"):
            result = as_json(db, "tiers", option, name)
            assert [(r["task_type"], r["tasks"]) for r in result["by_task_type"]] == [(name, 1)]
    # and the store is intact: every task is still there
    assert as_json(db, "summary")["tasks"] == len(HOSTILE_TASK_TYPES) + 1


@pytest.mark.parametrize(
    ("name", "priced"), [("calibration", False), ("drift", False), ("summary", True)]
)
def test_reports_that_read_no_spend_do_not_price_the_store(db, name, priced):
    """Calibration and drift read confidences and outcomes, never spend: a one-shot report
    of either skips registering the prices (issue 8's one-shot target, docs/performance.md)
    and still gives the same numbers as after the prices were registered."""
    from tierwatch.ingest import store
    from tierwatch.ingest.config import load_config
    from tierwatch.queries.filters import Filters
    from tierwatch.queries.report import build_report

    config = load_config(None)
    with store.open_store(db) as con:
        alone = build_report(con, name, config, Filters())
        registered = con.execute(
            "select count(*) from duckdb_tables() where temporary and table_name = 'pricing_state'"
        ).fetchone()[0]
    assert registered == int(priced)
    with store.open_store(db) as con:
        build_report(con, "summary", config, Filters())  # the prices registered first
        assert build_report(con, name, config, Filters()) == alone
