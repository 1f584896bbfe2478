"""Every dashboard page through Streamlit's AppTest on a store loaded from the sample fleet.

The numbers a page shows must equal `build_report` (what `tierwatch report --json` prints)
on the same data and selection: the page and the CLI never disagree.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import textwrap

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tierwatch.dashboard.settings import APP
from tierwatch.ingest import flags
from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters
from tierwatch.queries.report import build_report

SAMPLE = APP.parent.parent / "sample_data"
PAGES = {
    "overview": "views/overview.py",
    "planner_tiers": "views/planner_tiers.py",
    "escalations": "views/escalations.py",
    "costs": "views/costs.py",
    "confidence": "views/confidence.py",
    "drift": "views/drift.py",
    "retiering": "views/retiering.py",
    "whatif": "views/whatif.py",
    "upload": "views/upload.py",
}
HOSTILE = 'it\'s 50% "<b>bold</b>" 分类 🚀'


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory):
    """The committed sample fleet, loaded once; tests that write work on a copy."""
    db = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    report = ingest_paths(db, sorted(SAMPLE.glob("*")), load_config(None))
    assert report.totals["loaded"] > 10_000 and not report.errors
    return db


@pytest.fixture
def db(sample_db, tmp_path, monkeypatch):
    copy = tmp_path / "dash.duckdb"
    shutil.copy(sample_db, copy)
    monkeypatch.setenv("TIERWATCH_DB", str(copy))
    monkeypatch.delenv("TIERWATCH_CONFIG", raising=False)
    monkeypatch.delenv("TIERWATCH_READ_ONLY", raising=False)
    st.cache_data.clear()
    yield copy
    st.cache_data.clear()


def report(db, name, filters=None):
    with open_store(db) as con:
        return build_report(con, name, load_config(None), filters or Filters())


def open_page(page: str | None = None, **query) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(query)
    at.run()
    if page and page != "overview":
        at.switch_page(PAGES[page]).run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def metric(at: AppTest, label: str) -> str:
    found = [m for m in at.metric if m.label == label]
    assert found, f"no metric {label!r}; have {[m.label for m in at.metric]}"
    return found[0].value


def table_with(at: AppTest, column: str):
    """The first table on the page that has `column`."""
    for frame in at.dataframe:
        if column in frame.value.columns:
            return frame.value
    raise AssertionError(f"no table with a {column!r} column")


def as_rendered(markdown: str) -> str:
    """What markdown with CommonMark backslash escapes shows (and without the invisible
    word joiners that keep URLs from being linked): user text is escaped on the pages."""
    import re

    return re.sub(r"\\(.)", r"\1", markdown).replace("\u2060", "")


def pct(x: float) -> str:
    return f"{x:.1%}"


def test_overview_headlines_equal_the_summary_and_costs_reports(db):
    at = open_page("overview")
    summary, costs = report(db, "summary"), report(db, "costs")
    assert metric(at, "Tasks per day") == f"{summary['tasks_per_day']:,.0f}"
    assert metric(at, "Cost per day") == f"${summary['cost_usd_per_day']:,.2f}"
    assert metric(at, "Failure rate") == pct(summary["failure_rate"])
    assert metric(at, "Escalation rate") == pct(summary["escalation_rate"])
    for tier in ("haiku", "sonnet", "opus"):
        saving = costs["savings_vs"][tier]
        shown = metric(at, f"Routed vs all-{tier}")
        assert shown == (f"saves {saving:.1%}" if saving >= 0 else f"costs {-saving:.0%} more")
    verdict = report(db, "verdict")
    table = at.dataframe[-1].value  # the verdict's conditions, last on the page
    # each condition in words, its value and threshold with their units, as the report's
    assert [c["name"] for c in verdict["conditions"]] == [
        "volume",
        "heterogeneous",
        "quality_signal_outcome",
        "quality_signal_confidence",
        "saving",
    ]
    assert list(table["Condition"]) == [
        "Enough tasks a day",
        "Task types need different tiers",
        "Outcomes are checked",
        "Confidence is logged",
        "Routing saves enough",
    ]
    c = {x["name"]: x for x in verdict["conditions"]}
    assert list(table["Value"]) == [
        f"{c['volume']['value']:,.1f}",
        str(c["heterogeneous"]["value"]),
        pct(c["quality_signal_outcome"]["value"]),
        pct(c["quality_signal_confidence"]["value"]),
        f"${c['saving']['value']:,.2f}",
    ]
    assert list(table["Needs"]) == ["> 300/day", ">= 2 tiers", ">= 50%", ">= 50%", "> $50.00/month"]


def test_planner_tiers_table_equals_the_tiers_report(db):
    at = open_page("planner_tiers")
    tiers = report(db, "tiers")
    shown = at.dataframe[0].value
    assert list(shown["planner_tier"]) == [r["planner_tier"] for r in tiers["by_planner_tier"]]
    assert list(shown["tasks"]) == [r["tasks"] for r in tiers["by_planner_tier"]]
    assert list(shown["failure_rate"]) == pytest.approx(
        [r["failure_rate"] for r in tiers["by_planner_tier"]]
    )
    # the sample's ops fleet (ops.csv) has no downstream column and no downstream record
    # names one of its tasks: its downstream rates say nothing, and the page says so
    assert "ops" in tiers["fleets_without_downstream"]
    notes = [c.value for c in at.caption if c.value.startswith("Downstream rates: not reported")]
    assert len(notes) == 1 and "ops" in notes[0], notes


def test_escalations_headlines_equal_the_escalations_report(db):
    at = open_page("escalations")
    esc = report(db, "escalations")
    steps = sum(sum((r["paths"] or {}).values()) for r in esc["by_task_type"])
    skips = sum(r["skip_tier_escalations"] for r in esc["by_task_type"])
    assert metric(at, "Escalation steps") == f"{steps:,}"
    assert metric(at, "Steps that skip a tier") == f"{skips:,}"
    assert metric(at, "Escalation tax") == pct(esc["escalation_tax"])
    assert skips > 0  # the sample plants haiku->opus skips on one task type
    hotspots = at.dataframe[0].value
    assert list(hotspots["task_type"]) == [r["task_type"] for r in esc["by_task_type"]]


def test_costs_headlines_equal_the_costs_report_and_the_what_if_changes_nothing_stored(db):
    at = open_page("costs")
    costs = report(db, "costs")
    assert metric(at, "Realized per day") == f"${costs['realized_usd_per_day']:,.2f}"
    by_strategy = table_with(at, "strategy")
    assert list(by_strategy["usd_per_day"])[:3] == pytest.approx(
        [costs["counterfactual_usd_per_day"][t] for t in ("haiku", "sonnet", "opus")]
    )

    # what-if: a failure costs $0 instead of $50; the page follows, the store does not
    at.number_input(key="whatif-failure-cost").set_value(0.0).run()
    assert not at.exception
    realized = costs["realized_usd_per_day"]
    assert metric(at, "Failure-adjusted per day") == f"${realized:,.2f}"
    assert report(db, "costs")["failure_cost_usd"] == 50.0


def test_confidence_scores_equal_the_calibration_report(db):
    at = open_page("confidence")
    cal = report(db, "calibration")
    scores = at.dataframe[0].value
    assert list(scores["attempts"]) == [g["attempts"] for g in cal["by_tier"]]
    assert list(scores["ECE"]) == pytest.approx([round(g["ece"], 3) for g in cal["by_tier"]])


def test_drift_lists_the_model_changes_of_the_drift_report(db):
    at = open_page("drift")
    drift = report(db, "drift")
    assert drift["model_changes"], "the sample plants a model-version update"
    headers = [as_rendered(h.value) for h in at.subheader]
    for c in drift["model_changes"]:
        assert f"{c['tier']}: {c['from_model']} → {c['to_model']} (from {c['at']})" in headers


def test_retiering_shows_the_recommendations_and_the_routing_table(db):
    at = open_page("retiering")
    recs = report(db, "recommendations")["recommendations"]
    shown = at.dataframe[0].value
    # the actions read as words on the page (tier_up shows as "tier up")
    assert list(zip(shown["task_type"], shown["action"], strict=True)) == [
        (r["task_type"], r["action"].replace("_", " ")) for r in recs
    ]
    heuristics = at.code[0].value
    assert heuristics.startswith("Routing heuristics from ")
    # the sample's ops fleet reports no downstream outcomes: the page says what that leaves out
    notes = [c.value for c in at.caption if c.value.startswith("Downstream: not reported by")]
    assert len(notes) == 1 and "ops" in notes[0], notes


def test_a_flag_set_on_the_page_is_stored_and_still_there_after_a_rerun(db):
    at = open_page("retiering")
    task_type = at.selectbox(key="flag-task-type").options[0]
    at.selectbox(key="flag-task-type").set_value(task_type)
    at.selectbox(key="flag-target").set_value("opus")
    at.text_area(key="flag-note").set_value("<script>alert(1)</script> check")
    at.text_input(key="flag-who").set_value("ana")
    at.button[0].click()  # the form's submit button
    at.run()
    assert not at.exception, [e.value for e in at.exception]

    with open_store(db) as con:
        stored = flags.current_flags(con)
    assert stored[task_type].target_tier == "opus"
    assert stored[task_type].flagged_by == "ana"

    again = open_page("retiering")  # a new session: everything comes from the store
    texts = [t.value for t in again.text]
    assert any(t.startswith(f"{task_type} → opus") for t in texts), texts
    # the note is shown as text, not HTML
    assert "<script>alert(1)</script> check" in texts  # st.text: no markup at all

    [unflag] = [b for b in again.button if b.label == "Unflag"]
    unflag.click().run()
    assert not again.exception
    with open_store(db) as con:
        assert flags.current_flags(con) == {}
        assert [e.action for e in flags.history(con, task_type)] == ["unflag", "flag"]
    assert "No task type is flagged." in [t.value for t in again.text]


def upload_through_page(name: str, payload: bytes, mime: str):
    """The Upload page after loading one file through it (no exception raised)."""
    st.cache_data.clear()
    at = open_page("upload")
    at.file_uploader(key="upload-files").set_value([(name, payload, mime)])
    at.run()
    at.button(key="upload-load").click().run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def test_an_upload_loads_once_and_counts_duplicates_the_second_time(db, tmp_path):
    lines = [
        {
            "task_id": "up-1",
            "ts": "2026-03-05T10:00:00Z",
            "task_type": HOSTILE,
            "tier": "haiku",
            "planner_tier": "haiku",
            "input_tokens": 100,
            "output_tokens": 20,
            "fleet": "uploaded",
        },
        {
            "task_id": "up-2",
            "ts": "2026-03-05T11:00:00Z",
            "task_type": HOSTILE,
            "tier": "opus",
            "input_tokens": -5,
            "output_tokens": 20,
        },
    ]
    payload = "".join(json.dumps(x) + "\n" for x in lines).encode()
    for expected_loaded, expected_duplicates in ((1, 0), (0, 1)):
        at = upload_through_page("mine.jsonl", payload, "text/plain")
        accounting = at.dataframe[0].value
        row = accounting.iloc[0]
        # 2 records read: 1 good, 1 with input_tokens -5 rejected
        assert (row["read"], row["loaded"], row["duplicates"], row["rejected"]) == (
            2,
            expected_loaded,
            expected_duplicates,
            1,
        )
        rejects = at.dataframe[1].value
        assert list(rejects["line"]) == [2]
        assert list(rejects["field"]) == ["input_tokens"]

    at = open_page("overview", task_type=HOSTILE)  # the new task type is there at once
    assert metric(at, "Tasks per day") == "1"


def test_an_upload_of_spend_logs_warns_of_fallbacks_whose_failures_are_not_logged(db):
    """One LiteLLM_SpendLogs row answered by sonnet after haiku failed: the failed call is in
    no row, and the Upload page says so beside the accounting."""
    meta = {"spend_logs_metadata": {"task_id": "up-fb-1"}, "attempted_fallbacks": 1}
    payload = (
        "request_id,call_type,startTime,model,model_group,spend,prompt_tokens,"
        "completion_tokens,status,metadata\n"
        "up-fb-r1,completion,2026-03-05 10:00:00,claude-sonnet-4-5,sonnet,0.002,300,80,"
        f'success,"{json.dumps(meta).replace(chr(34), chr(34) * 2)}"\n'
    ).encode()
    at = upload_through_page("spend_logs.csv", payload, "text/csv")
    row = at.dataframe[0].value.iloc[0]
    assert (row["read"], row["loaded"], row["rejected"]) == (1, 1, 0)
    warnings = [w.value for w in at.warning]
    assert any(
        "1 call was answered after Router fallbacks whose 1 failed call this" in w for w in warnings
    ), warnings


def test_filters_come_from_the_url_and_the_numbers_follow(db):
    with open_store(db) as con:
        rows = con.execute("select distinct task_type from tasks order by 1").fetchall()
        task_types = [r[0] for r in rows]
    chosen = task_types[0]
    at = open_page("overview", task_type=chosen, since="2026-03-05")
    assert at.multiselect(key="filter_task_types").value == [chosen]
    summary = report(db, "summary", Filters.parse(since="2026-03-05", task_types=[chosen]))
    assert metric(at, "Tasks per day") == f"{summary['tasks_per_day']:,.0f}"
    assert at.query_params["task_type"] == [chosen] or at.query_params["task_type"] == chosen


def test_an_unknown_name_in_the_url_is_dropped_with_a_note(db):
    at = open_page("overview", fleet="no such fleet")
    assert at.multiselect(key="filter_fleets").value == []
    assert any("no such fleet" in w.value for w in at.sidebar.warning)


def test_every_page_renders_without_error_when_the_database_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("TIERWATCH_DB", str(tmp_path / "none.duckdb"))
    st.cache_data.clear()
    for page in PAGES:
        at = open_page(page)
        if page == "upload":
            assert at.file_uploader(key="upload-files") is not None
        else:
            assert any("no tierwatch database" in i.value for i in at.info)
            assert at.button(key="load-sample").label == "Load the sample fleet"


def test_read_only_hides_upload_and_flag_editing(db, monkeypatch):
    monkeypatch.setenv("TIERWATCH_READ_ONLY", "1")
    at = open_page("retiering")
    assert not [f for f in at.get("form")]
    assert not [b for b in at.button if b.label == "Unflag"]
    assert at.code[0].value.startswith("Routing heuristics")  # exports stay
    at = AppTest.from_file(str(APP), default_timeout=60).run()
    assert not at.file_uploader
    with pytest.raises(ValueError, match="Could not find a navigation page"):
        at.switch_page(PAGES["upload"])  # the Upload page is not registered at all


def test_a_locked_database_shows_what_to_do_not_a_traceback(db):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import duckdb, sys
                con = duckdb.connect({str(db)!r})
                print("holding", flush=True)
                sys.stdin.read()
                """
            ),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "holding"
        at = AppTest.from_file(str(APP), default_timeout=60).run()
        assert not at.exception
        assert any("busy" in w.value and "writing" in w.value for w in at.warning)
        assert at.button(key="retry-store").label == "Try again"
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    at.button(key="retry-store").click().run()  # the writer is gone: the page shows data
    assert not at.exception
    assert [m for m in at.metric if m.label == "Tasks per day"]


def test_no_page_renders_html_from_strings():
    # user text (task types, notes) must reach the browser as text: no raw-HTML switches
    for path in APP.parent.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        assert "unsafe_allow_html=" not in text.replace(" ", ""), path
        assert "st.html(" not in text, path


def test_uploads_over_the_caps_are_refused_before_loading(db, monkeypatch):
    import io

    import pyarrow as pa
    import pyarrow.parquet as pq

    rows = pa.table(
        {
            "task_id": ["p1", "p2", "p3"],
            "ts": ["2026-09-02T00:00:00Z"] * 3,
            "task_type": ["pq"] * 3,
            "tier": ["haiku"] * 3,
            "input_tokens": [1, 2, 3],
            "output_tokens": [1, 1, 1],
        }
    )
    buffer = io.BytesIO()
    pq.write_table(rows, buffer)
    monkeypatch.setenv("TIERWATCH_MAX_UPLOAD_ROWS", "2")
    monkeypatch.setenv("TIERWATCH_MAX_UPLOAD_MB", "0.004")  # 4,000 bytes
    big = b'{"task_id": "x"}\n' * 300  # 17 bytes a line: 5,100 bytes

    at = open_page("upload")
    at.file_uploader(key="upload-files").set_value(
        [
            ("three.parquet", buffer.getvalue(), "application/octet-stream"),
            ("big.jsonl", big, "text/plain"),
        ]
    )
    at.run()
    at.button(key="upload-load").click().run()
    assert not at.exception
    problems = list(at.dataframe[0].value["problem"])
    # the footer says 3 rows, over the limit of 2; 5,100 bytes is over 4,000
    assert problems[0].startswith("three.parquet: 3 rows is over this dashboard's limit of 2")
    assert problems[1].startswith(
        "big.jsonl: 5,100 bytes is over this dashboard's upload limit of 0.004 MB"
    )
    with open_store(db) as con:
        loaded = con.execute(
            "select count(*) from ingested_files where path in ('three.parquet', 'big.jsonl')"
        ).fetchone()[0]
    assert loaded == 0


def test_the_cost_charts_add_up_to_the_reports(db):
    # the waterfall and the tax-per-day chart come from dashboard_daily_spend: over the
    # whole selection its parts must give the reports' realized spend and escalation tax
    from tierwatch.queries import pricing, run

    with open_store(db) as con:
        costs = build_report(con, "costs", load_config(None), Filters())
        esc = build_report(con, "escalations", load_config(None), Filters())
        pricing.register(con, load_config(None))
        parts = run(con, "dashboard_daily_spend", Filters().params())
        counterfactual = run(con, "dashboard_daily_counterfactual", Filters().params())
        daily_tasks = run(con, "dashboard_daily_tasks", Filters().params())
    total = sum(p["cost_usd"] for p in parts)
    superseded = sum(p["cost_usd"] for p in parts if p["part"] == "superseded")
    assert total == pytest.approx(costs["realized_usd"])
    assert superseded / total == pytest.approx(esc["escalation_tax"])
    for tier in ("haiku", "sonnet", "opus"):
        assert sum(c["counterfactual_usd"] for c in counterfactual if c["tier"] == tier) == (
            pytest.approx(costs["counterfactual_usd"][tier])
        )
    assert sum(d["tasks"] for d in daily_tasks) == costs["tasks"]


def test_the_empty_state_button_loads_the_sample_fleet(tmp_path, monkeypatch):
    db = tmp_path / "fresh.duckdb"
    monkeypatch.setenv("TIERWATCH_DB", str(db))
    st.cache_data.clear()
    at = open_page("overview")
    at.button(key="load-sample").click().run()
    assert not at.exception, [e.value for e in at.exception]
    summary = report(db, "summary")
    assert summary["tasks"] > 10_000
    assert metric(at, "Tasks per day") == f"{summary['tasks_per_day']:,.0f}"


def test_each_interactions_new_connection_gives_the_reports_numbers(db):
    # every interaction opens its own connection; the rollups it reads are the store's and
    # only the prices are applied on it, so a cache miss gives the same numbers
    open_page("costs")
    st.cache_data.clear()
    with open_store(db) as con:
        chosen = con.execute("select min(task_type) from tasks").fetchone()[0]
    at = open_page("costs", task_type=chosen)
    costs = report(db, "costs", Filters(task_types=(chosen,)))
    assert metric(at, "Realized per day") == f"${costs['realized_usd_per_day']:,.2f}"

    # new data: a new version, and the page shows it
    with open_store(db, read_only=False) as con:
        flags.flag(con, chosen, "opus", flagged_by="t")
    st.cache_data.clear()
    at = open_page("costs")
    assert metric(at, "Realized per day") == f"${report(db, 'costs')['realized_usd_per_day']:,.2f}"


def test_a_recommendation_fills_in_the_flag_form(db):
    recs = [
        r
        for r in report(db, "recommendations")["recommendations"]
        if r["to_tier"] in ("haiku", "sonnet", "opus")
    ]
    assert recs, "the sample plants recommendations that move a task type"
    at = open_page("retiering")
    at.selectbox(key="flag-from-rec").set_value(0).run()
    assert not at.exception
    assert at.selectbox(key="flag-task-type").value == recs[0]["task_type"]
    assert at.selectbox(key="flag-target").value == recs[0]["to_tier"]


def test_names_in_charts_are_escaped_for_plotly_markup():
    from tierwatch.dashboard import charts

    fig = charts.rate_bars(
        [
            {
                "task_type": "<b>x</b> & y",
                "failure_rate": 0.5,
                "failure_rate_ci": [0.2, 0.8],
                "tasks": 4,
                "small_sample": True,
            }
        ],
        "task_type",
        "t",
    )
    # Plotly renders <b> as bold; escaped, it shows the characters; * marks a small sample
    assert list(fig.data[0].x) == ["&lt;b&gt;x&lt;/b&gt; &amp; y *"]


def test_a_store_of_one_day_draws_that_day_not_the_milliseconds_around_it():
    import datetime as dt

    import pandas as pd

    from tierwatch.dashboard import charts

    day = dt.date(2026, 9, 1)  # a LiteLLM log of one day: every daily series is one point
    fig = charts.lines(pd.DataFrame({"day": [day], "tasks": [2636]}), "day", {"tasks": "t"}, "T")
    assert [pd.Timestamp(v) for v in fig.layout.xaxis.range] == [
        pd.Timestamp("2026-08-31"),
        pd.Timestamp("2026-09-02"),
    ]
    assert fig.data[0].marker.size > 4  # a lone point is drawn big enough to be seen
    mix = pd.DataFrame({"day": [day] * 3, "tier": ["haiku", "sonnet", "opus"], "n": [6, 3, 1]})
    fig = charts.stacked_area(
        mix, "day", "n", "tier", "Mix", order=("haiku", "sonnet", "opus"), percent=True
    )
    # an area of one point draws nothing: one stacked bar of 60% + 30% + 10%
    assert [(t.type, t.name, list(t.y)) for t in fig.data] == [
        ("bar", "haiku", [60.0]),
        ("bar", "sonnet", [30.0]),
        ("bar", "opus", [10.0]),
    ]
    assert fig.layout.barmode == "stack"
    # two days stay lines on plotly's own axis
    two = pd.DataFrame({"day": [day, day + dt.timedelta(days=1)], "tasks": [1, 2]})
    fig = charts.lines(two, "day", {"tasks": "t"}, "T")
    assert fig.layout.xaxis.range is None and fig.data[0].marker.size == 4


def test_a_damaged_database_says_so_on_every_page_not_a_traceback(db):
    size = db.stat().st_size  # overwrite the middle: DuckDB's block checksums catch it
    with open(db, "r+b") as f:
        f.seek(size // 4)
        f.write(b"\xff" * (size // 2))
    st.cache_data.clear()
    for page in ("overview", "escalations", "retiering"):
        at = AppTest.from_file(str(APP), default_timeout=60)
        at.run()
        if page != "overview":
            at.switch_page(PAGES[page]).run()
        assert not at.exception, [e.value for e in at.exception]
        shown = " ".join(e.value for e in at.error) + " ".join(i.value for i in at.info)
        assert "the database file is damaged" in shown, (page, shown)
        assert "Restore it from a copy" in shown


def test_the_what_if_page_shows_the_simulate_report_and_follows_a_move(db):
    from tierwatch.queries import whatif

    at = open_page("whatif")
    flags = report_with(db, "simulate", table="flags")
    assert metric(at, "Cost per day") == f"${flags['usd_per_day']:,.2f}"
    assert metric(at, "Failure rate") == pct(flags["failure_rate"])
    # the sample's ops fleet never reports downstream outcomes: the figures leave it out
    assert flags["fleets_without_downstream"] == ["ops"]
    notes = [c.value for c in at.caption if c.value.startswith("Downstream: not reported")]
    assert notes == [
        "Downstream: not reported by ops; their tasks count as not failed downstream, so the "
        "downstream figures and failure rates leave theirs out."
    ]
    # the Re-tiering page links a move as ?move=...&to=...: the page simulates it
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(move="status_check", to="sonnet")
    at.switch_page(PAGES["whatif"]).run()
    assert not at.exception, [e.value for e in at.exception]
    table = {r["task_type"]: whatif.Route(r["task_type"], r["tier"]) for r in flags["task_types"]}
    table["status_check"] = whatif.Route("status_check", "sonnet", "opus")
    moved = report_with(db, "simulate", table=table)
    assert moved["usd_per_day"] < flags["usd_per_day"]  # sonnet is a fifth of opus a call
    assert metric(at, "Cost per day") == f"${moved['usd_per_day']:,.2f}"
    assert metric(at, "Failure rate") == pct(moved["failure_rate"])
    # the optimiser's table, one click away
    at = open_page("whatif")
    at.radio(key="whatif-start").set_value("optimised").run()
    assert not at.exception
    optimised = report_with(db, "optimize")
    assert metric(at, "Cost per day") == f"${optimised['usd_per_day']:,.2f}"
    plan = table_with(at, "why this many")
    assert list(plan["task type"]) == [e["task_type"] for e in optimised["exploration"]]


def report_with(db, name, **options):
    with open_store(db) as con:
        return build_report(con, name, load_config(None), Filters(), **options)


@pytest.mark.parametrize("value", ["1", "true", "YES", "on", " 1 ", "sure"])
def test_read_only_by_construction_every_write_path_refuses(db, monkeypatch, tmp_path, value):
    """However read-only was asked for (any true word, even a typo, counts), every write the
    dashboard can make is refused before the store is opened for writing."""
    from tierwatch.dashboard import connection, writes

    monkeypatch.setenv("TIERWATCH_READ_ONLY", value)
    before = db.read_bytes()
    good = json.dumps({"task_id": "ro-1", "ts": "2026-03-01T00:00:00Z", "task_type": "x",
                       "tier": "haiku", "input_tokens": 1, "output_tokens": 1})  # fmt: skip
    attempts = [
        lambda: writes.set_flag("html_extraction", "opus", who="x", reason="other", note=""),
        lambda: writes.clear_flag("html_extraction", who="x", note=""),
        lambda: writes.ingest_upload("new.jsonl", (good + "\n").encode()),
        lambda: writes.load_sample_fleet(),
        lambda: connection.writing().__enter__(),
    ]
    for write in attempts:
        with pytest.raises(connection.ReadOnly, match="read-only"):
            write()
    assert db.read_bytes() == before  # not a byte written


@pytest.mark.parametrize("value", ["", "0", "false", "No", "off"])
def test_read_only_is_off_only_when_asked_off(monkeypatch, value):
    from tierwatch.dashboard.settings import settings

    monkeypatch.setenv("TIERWATCH_READ_ONLY", value)
    assert settings().read_only is False


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        (["--read-only"], {}, "1"),
        ([], {"TIERWATCH_READ_ONLY": "1"}, "1"),  # the env var reaches the server as asked
        ([], {"TIERWATCH_READ_ONLY": "true"}, "1"),
        ([], {}, ""),
    ],
)
def test_tierwatch_dashboard_passes_read_only_on_whichever_way_it_was_asked(
    tmp_path, monkeypatch, args, env, expected
):
    import os

    from click.testing import CliRunner

    from tierwatch.cli.main import main

    started = {}

    def fake_execve(path, argv, environ):
        started.update(argv=argv, env=environ)
        raise SystemExit(0)

    monkeypatch.setattr(os, "execve", fake_execve)
    monkeypatch.delenv("TIERWATCH_READ_ONLY", raising=False)
    result = CliRunner().invoke(
        main, ["dashboard", "--db", str(tmp_path / "x.duckdb"), *args], env=env
    )
    assert result.exit_code == 0, result.output
    assert started["env"]["TIERWATCH_READ_ONLY"] == expected
    assert "--client.toolbarMode" in started["argv"]  # and no "Deploy" button
    assert started["argv"][started["argv"].index("--client.toolbarMode") + 1] == "minimal"


def test_uploads_of_small_files_load_in_one_pass_each_under_its_own_name(db, monkeypatch):
    """Many small uploads go in as a folder does (one pass of checks and one transaction),
    each with its own ledger row, name and rejects; a refused one stays out alone."""
    from tierwatch.dashboard import writes
    from tierwatch.ingest import load

    passes = []
    one_pass = load.ingest_small_files

    def counted(con, paths, *args, **kwargs):
        passes.append(len(paths))
        yield from one_pass(con, paths, *args, **kwargs)

    monkeypatch.setattr(load, "ingest_small_files", counted)
    rec = {"ts": "2026-09-02T00:00:00Z", "task_type": "up", "tier": "haiku",
           "input_tokens": 1, "output_tokens": 1}  # fmt: skip
    a = json.dumps({**rec, "task_id": "up-a"}) + "\n"
    b = json.dumps({**rec, "task_id": "up-b"}) + "\n" + '{"task_id": "up-c", "ts": 5}\n'
    outcomes = writes.ingest_uploads(
        [("a.jsonl", a.encode()), ("b.jsonl", b.encode()), ("c.parquet", b"not parquet")]
    )
    assert passes == [2]  # a and b together; c never reached the store
    (na, ra), (nb, rb), (nc, rc) = outcomes
    assert (na, ra.path, ra.read, ra.loaded, ra.rejected) == ("a.jsonl", "a.jsonl", 1, 1, 0)
    assert (nb, rb.path, rb.read, rb.loaded, rb.rejected) == ("b.jsonl", "b.jsonl", 2, 1, 1)
    assert [r.line for r in rb.rejects] == [2]  # b's own line 2, not the pass's
    assert nc == "c.parquet" and isinstance(rc, writes.UploadRefused)
    assert "not a readable Parquet file" in str(rc)
    with open_store(db) as con:
        ledger = con.execute(
            "select path, read, loaded, rejected, loaded_by from ingested_files "
            "where path in ('a.jsonl', 'b.jsonl', 'c.parquet') order by path"
        ).fetchall()
    assert ledger == [
        ("a.jsonl", 1, 1, 0, "dashboard (no sign-in)"),
        ("b.jsonl", 2, 1, 1, "dashboard (no sign-in)"),
    ]


def test_a_gzip_bomb_upload_is_refused_with_memory_bounded(db, tmp_path):
    """A real bomb: 128 MB of log lines in a gzip file of about 0.3 MB, uploaded through the
    dashboard's upload path in a fresh process: refused (it expands past 100x its size,
    floor 64 MB), nothing loaded, and the process never holds the expansion."""
    import zlib

    line = (
        b'{"task_id": "bomb", "ts": "2026-09-01T00:00:00Z", "task_type": "bomb", '
        b'"tier": "haiku", "input_tokens": 1, "output_tokens": 1}\n'
    )
    chunk = line * (1_000_000 // len(line))
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)  # 31: a gzip stream
    bomb = tmp_path / "bomb.jsonl.gz"
    with bomb.open("wb") as f:
        for _ in range(128):
            f.write(packer.compress(chunk))
        f.write(packer.flush())
    assert bomb.stat().st_size < 1_000_000
    script = textwrap.dedent(
        f"""
        import resource, sys
        from pathlib import Path
        from tierwatch.dashboard import connection, writes
        from tierwatch.ingest.load import IngestError
        payload = Path({str(bomb)!r}).read_bytes()
        try:
            writes.ingest_upload("bomb.jsonl.gz", payload)
        except IngestError as e:
            print("refused:", e)
        else:
            print("loaded")
        print("maxrss_mb", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=300,
        env={**__import__("os").environ, "TIERWATCH_DB": str(db)},
    )
    assert done.returncode == 0, done.stderr[-2000:]
    out = done.stdout
    assert "refused: bomb.jsonl.gz" in out and "expand" in out, out
    rss = int(out.rsplit("maxrss_mb", 1)[1])
    # bounded by the cap: what loading the first 64 MB costs (about 1.7 GB peak here), not
    # the 128 MB (or gigabytes) the file expands to
    assert rss < 2048, f"the upload held {rss} MB"
    with open_store(db) as con:
        assert (
            con.execute("select count(*) from attempts where task_type = 'bomb'").fetchone()[0] == 0
        )


def test_money_reads_as_people_write_it():
    from tierwatch.dashboard.columns import money

    # whole dollars from $100, cents from $0.10, four places for a call's cost; a saving (a
    # negative step of the costs waterfall) with its sign before the dollar, not "$-845"
    assert [money(v) for v in (975.2, 6.64, 0.0123, 0.00042, 0)] == [
        "$975", "$6.64", "$0.0123", "$0.000420", "$0.00"
    ]  # fmt: skip
    assert [money(v) for v in (-844.74, -6.64, -0.0012)] == ["-$845", "-$6.64", "-$0.0012"]


def test_days_and_times_in_a_table_read_as_dates_not_epoch_numbers():
    import pandas as pd

    from tierwatch.dashboard.columns import present

    # a DuckDB DATE and TIMESTAMP arrive in pandas as datetime64; shown with a text column
    # they read as milliseconds since 1970 (1790726400000 for 30 September 2026)
    frame = pd.DataFrame(
        {
            "day": pd.to_datetime(["2026-09-30"]),
            "downstream_detected_at": pd.to_datetime(["2026-10-02 08:30:00"]),
            "task_id": ["t1"],
        }
    )
    _, config = present(frame)
    day, at = config["day"]["type_config"], config["downstream_detected_at"]["type_config"]
    assert (day["type"], day["format"]) == ("date", "YYYY-MM-DD")
    assert (at["type"], at["format"]) == ("datetime", "YYYY-MM-DD HH:mm")
    assert config["task_id"]["type_config"]["type"] == "text"
