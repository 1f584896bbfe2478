"""The analytics framework: query files, filters, pricing, Wilson intervals, the report registry."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from fixtures_analytics import HOSTILE_TASK_TYPES, attempt, build_store, empty_store

import tierwatch.queries as queries
from tierwatch.cli.options import parse_selection
from tierwatch.cli.render import render_text
from tierwatch.ingest.config import load_config, parse_config
from tierwatch.ingest.store import open_store
from tierwatch.queries import Filters, QueryError, pricing, run
from tierwatch.queries.report import REPORTS, build_report, check_ladder, report_module
from tierwatch.queries.stats import SMALL_SAMPLE, rate_fields, small_sample, wilson

DEFAULT = load_config(None)


def test_every_query_file_states_its_grain_and_is_parameterised():
    names = queries.query_names()
    assert "selection_size" in names and "priced_usage" in names
    for name in names:
        text = queries.sql_text(name)
        header = []
        for line in text.splitlines():
            if not line.startswith("--"):
                break
            header.append(line)
        assert header, f"{name}.sql starts without a header comment"
        assert re.search(r"grain:", "\n".join(header), re.I), f"{name}.sql: header has no Grain"
        # no Python formatting placeholders: values travel as $parameters only
        assert not re.search(r"\{[a-z_]*\}|%s|%\(", text), f"{name}.sql has a format placeholder"


def test_run_binds_only_the_parameters_a_file_names():
    import duckdb

    con = duckdb.connect()
    con.execute("create table attempts (x integer)")
    # selection_size names $since, $until, $fleets, $task_types; extra keys are not passed on
    with pytest.raises(QueryError, match="needs parameters"):
        run(con, "selection_size", {"since": None})
    with pytest.raises(QueryError, match="no query named"):
        run(con, "no_such_query", {})
    with pytest.raises(QueryError, match="no query named"):
        run(con, "../ingest/tasks", {})


def test_filters_parse_dates_and_reject_bad_ones():
    # the command line's selection: its errors name the options (queries' own name none)
    f = Filters.parse(since="2026-03-01", until="2026-03-31", fleets=["a"], task_types=["b"])
    assert f.params() == {
        "since": dt.date(2026, 3, 1),
        "until": dt.date(2026, 3, 31),
        "fleets": ["a"],
        "task_types": ["b"],
    }
    assert Filters().params() == {"since": None, "until": None, "fleets": [], "task_types": []}
    with pytest.raises(QueryError, match=r"--since is '2026-13-01', must be a date"):
        parse_selection("2026-13-01", None, (), ())
    with pytest.raises(QueryError, match="--until is 'yesterday'"):
        parse_selection(None, "yesterday", (), ())
    with pytest.raises(QueryError, match="after --until"):
        parse_selection("2026-03-02", "2026-03-01", (), ())
    # the same errors in queries' own words, which a dashboard user can read
    with pytest.raises(QueryError, match=r"^the first day is '2026-13-01', must be a date"):
        Filters.parse(since="2026-13-01")
    with pytest.raises(QueryError, match="^the first day 2026-03-02 is after the last day"):
        Filters.parse(since="2026-03-02", until="2026-03-01")


def test_wilson_interval_worked_by_hand():
    # 5 of 10, z = 1.96: z² = 3.8416; centre = (0.5 + 3.8416/20) / (1 + 3.8416/10) = 0.5;
    # half = 1.96 * sqrt(0.25/10 + 3.8416/400) / 1.38416 = 1.96 * 0.186022 / 1.38416 = 0.26342
    low, high = wilson(5, 10)
    assert low == pytest.approx(0.23658, abs=1e-5) and high == pytest.approx(0.76342, abs=1e-5)
    # 0 of 10: low = 0, high = z² / (n + z²) = 3.8416 / 13.8416 = 0.27754
    assert wilson(0, 10) == (0.0, pytest.approx(0.27754, abs=1e-5))
    # 10 of 10: low = n / (n + z²) = 10 / 13.8416 = 0.72246
    assert wilson(10, 10) == (pytest.approx(0.72246, abs=1e-5), 1.0)
    assert wilson(0, 0) == (0.0, 1.0)
    with pytest.raises(ValueError):
        wilson(3, 2)
    assert small_sample(SMALL_SAMPLE - 1) and not small_sample(SMALL_SAMPLE)
    assert rate_fields("failure", 0, 0) == {"failure_rate": None, "failure_rate_ci": [0.0, 1.0]}


def test_pricing_logged_cost_model_price_cached_rate_tier_fallback_and_unpriced(tmp_path):
    four_tiers = parse_config(
        {
            "tiers": [
                {"name": "haiku", "input_usd_per_mtok": 0.8, "output_usd_per_mtok": 4},
                {"name": "sonnet", "input_usd_per_mtok": 3, "output_usd_per_mtok": 15},
                {"name": "opus", "input_usd_per_mtok": 15, "output_usd_per_mtok": 75},
                {"name": "mythos", "input_usd_per_mtok": 30, "output_usd_per_mtok": 150},
            ]
        }
    )
    db = build_store(
        tmp_path,
        [
            # a: logged cost wins over any price
            attempt("a", "2026-03-01T10:00:00Z", "x", "haiku", cost_usd=0.5, model="m-haiku-1"),
            # b: haiku tier price, 1,000 of 2,000 input cached at $0.08:
            #    1000*0.80 + 1000*0.08 + 500*4 = 800 + 80 + 2000 = 2880 -> $0.00288
            attempt("b", "2026-03-01T10:00:00Z", "x", "haiku", cached_input_tokens=1000),
            # c: model price from 2026-03-05 ($1/$5, cached $0.1) not yet in force on 03-04:
            #    tier price 2000*0.8 + 500*4 = 3600 -> $0.0036
            attempt("c", "2026-03-04T10:00:00Z", "x", "haiku", model="Claude-Haiku-9"),
            # d: in force from 03-05, and the later of the two matching rules ($2/$10) wins
            #    on 03-09: 2000*2 + 500*10 = 9000 -> $0.009
            attempt("d", "2026-03-09T10:00:00Z", "x", "haiku", model="Claude-Haiku-9"),
            # e: a tier the report's config does not have: unpriced, cost null (not $0)
            attempt("e", "2026-03-09T11:00:00Z", "x", "mythos"),
        ],
        config=four_tiers,
    )
    config = parse_config(
        {
            "prices": [
                {"model": "*haiku-9", "from": "2026-03-05", "input_usd_per_mtok": 1,
                 "output_usd_per_mtok": 5, "cached_input_usd_per_mtok": 0.1},
                {"model": "claude-*", "from": "2026-03-08", "input_usd_per_mtok": 2,
                 "output_usd_per_mtok": 10},
            ]
        }
    )  # fmt: skip
    with open_store(db) as con:
        pricing.register(con, config)
        # the store keeps each call's usage per day, tier and model; prices apply to it here
        rows = con.execute(
            "select day, tier, model, attempts, usd, unpriced_attempts from priced_usage "
            "order by day, tier, model nulls first"
        ).fetchall()
        tiers = con.execute("select tier, tier_rank from tier_prices order by tier_rank").fetchall()
    march = dt.date(2026, 3, 1)
    got = [(d.day - march.day + 1, t, m, n, usd, u) for d, t, m, n, usd, u in rows]
    assert [(d, t, m, n, u) for d, t, m, n, _, u in got] == [
        (1, "haiku", None, 1, 0),  # b
        (1, "haiku", "m-haiku-1", 1, 0),  # a
        (4, "haiku", "Claude-Haiku-9", 1, 0),  # c
        (9, "haiku", "Claude-Haiku-9", 1, 0),  # d
        (9, "mythos", None, 1, 1),  # e: counted as unpriced
    ]
    b, a, c, d, e = (r[4] for r in got)
    assert a == 0.5
    assert b == pytest.approx(0.00288)
    assert c == pytest.approx(0.0036)
    assert d == pytest.approx(0.009)
    assert e == 0  # its cost is left out of the sum, not priced at $0 in silence
    assert tiers == [("haiku", 1), ("sonnet", 2), ("opus", 3)]


def test_price_tokens_at_a_tier():
    # sonnet: 2000*3 + 500*15 = 6000 + 7500 = 13500 per million -> $0.0135
    assert pricing.price_tokens(DEFAULT, "Sonnet", 2000, 500) == pytest.approx(0.0135)
    # opus with 1000 cached: 1000*15 + 1000*1.5 + 500*75 = 15000 + 1500 + 37500 -> $0.054
    assert pricing.price_tokens(DEFAULT, "opus", 2000, 500, 1000) == pytest.approx(0.054)
    with pytest.raises(QueryError, match="unknown tier 'gpt'"):
        pricing.price_tokens(DEFAULT, "gpt", 1, 1)


def test_report_registry_is_ordered_and_unknown_or_unbuilt_reports_say_so(monkeypatch):
    assert list(REPORTS) == [
        "summary", "tiers", "escalations", "costs",
        "calibration", "drift", "recommendations", "verdict",
        "simulate", "frontier", "optimize",
    ]  # fmt: skip
    with pytest.raises(QueryError, match="unknown report 'nope'"):
        report_module("nope")
    monkeypatch.setitem(REPORTS, "future", ("tierwatch.queries.not_written_yet", "later"))
    with pytest.raises(QueryError, match="not available"):
        report_module("future")


def test_empty_database_and_empty_selection_give_a_message(tmp_path):
    db = empty_store(tmp_path)
    with open_store(db) as con:
        result = build_report(con, "summary", DEFAULT, Filters())
    assert result["empty"] is True and "no attempts yet" in result["message"]
    assert render_text("summary", result) == result["message"]

    db = build_store(tmp_path, [attempt("t1", "2026-03-01T10:00:00Z", "x", "haiku")])
    with open_store(db) as con:
        result = build_report(con, "summary", DEFAULT, Filters.parse(since="2026-04-01"))
    assert result["empty"] is True and "No tasks or attempts match" in result["message"]
    assert result["filters"]["since"] == "2026-04-01"


def test_a_config_with_another_ladder_is_an_unknown_tier_error(tmp_path):
    db = build_store(tmp_path, [attempt("t1", "2026-03-01T10:00:00Z", "x", "haiku")])
    other = parse_config(
        {
            "tiers": [
                {"name": "small", "input_usd_per_mtok": 1, "output_usd_per_mtok": 2},
                {"name": "large", "input_usd_per_mtok": 3, "output_usd_per_mtok": 4},
            ]
        }
    )
    with open_store(db) as con, pytest.raises(QueryError, match="unknown tier 'haiku'"):
        check_ladder(con, other)


def test_hostile_names_pass_through_the_selection_filters(tmp_path):
    records = [
        attempt(f"t{i}", "2026-03-01T10:00:00Z", name, "haiku", fleet=name)
        for i, name in enumerate(HOSTILE_TASK_TYPES)
    ] + [attempt("plain", "2026-03-01T10:00:00Z", "plain", "haiku", fleet="plain")]
    db = build_store(tmp_path, records)
    with open_store(db) as con:
        pricing.register(con, DEFAULT)
        for name in HOSTILE_TASK_TYPES:
            for f in (Filters(task_types=(name,)), Filters(fleets=(name,))):
                size = run(con, "selection_size", f.params())[0]
                assert (size["tasks"], size["attempts"]) == (1, 1), name
        # a LIKE-style pattern is a plain value: '100%_done' does not match '100x_done'
        size = run(con, "selection_size", Filters(task_types=("100%",)).params())[0]
        assert size["tasks"] == 0
        assert con.execute("select count(*) from attempts").fetchone()[0] == 7


def test_register_reprices_when_the_prices_or_the_data_change(tmp_path):
    from fixtures_analytics import write_jsonl

    from tierwatch.ingest.load import ingest_file

    db = build_store(tmp_path, [attempt("t1", "2026-03-01T10:00:00Z", "x", "haiku")])
    doubled = parse_config(
        {
            "tiers": [
                {"name": "haiku", "input_usd_per_mtok": 1.6, "output_usd_per_mtok": 8},
                {"name": "sonnet", "input_usd_per_mtok": 6, "output_usd_per_mtok": 30},
                {"name": "opus", "input_usd_per_mtok": 30, "output_usd_per_mtok": 150},
            ]
        }
    )
    spend = "select sum(usd), sum(attempts) from attempt_spend"
    with open_store(db, read_only=False) as con:
        pricing.register(con, DEFAULT)
        # 2000 * 0.8 + 500 * 4 = 3600 per million
        assert con.execute(spend).fetchone() == (pytest.approx(0.0036), 1)
        pricing.register(con, DEFAULT)  # same prices, same data: kept
        assert con.execute(spend).fetchone() == (pytest.approx(0.0036), 1)
        pricing.register(con, doubled)  # what-if prices: 2000 * 1.6 + 500 * 8 = 7200
        assert con.execute(spend).fetchone() == (pytest.approx(0.0072), 1)
        more = write_jsonl(
            tmp_path / "more.jsonl", [attempt("t2", "2026-03-02T10:00:00Z", "x", "sonnet")]
        )
        ingest_file(con, more, doubled)
        pricing.register(con, doubled)  # new data: 0.0072 + (2000 * 6 + 500 * 30 = 27000)
        assert con.execute(spend).fetchone() == (pytest.approx(0.0342), 2)


def random_fleet(seed: int) -> list[dict]:
    """A small random fleet: chains of 1-3 executor calls on any tier, some planner and
    reviewer calls, logged costs, missing planner tiers, downstream failures."""
    import random

    from fixtures_analytics import downstream

    rng = random.Random(seed)
    tiers = ["haiku", "sonnet", "opus"]
    types = ["extract", "classify", HOSTILE_TASK_TYPES[0], HOSTILE_TASK_TYPES[3]]
    records = []
    for i in range(rng.randint(1, 25)):
        day = 1 + rng.randrange(5)
        task_type = rng.choice(types)
        planner = rng.choice([*tiers, None])
        fields = {"planner_tier": planner} if planner else {}
        for step in range(1, rng.randint(1, 3) + 1):
            extra = {"cost_usd": rng.choice([0.0, 0.01, 0.5])} if rng.random() < 0.2 else {}
            records.append(
                attempt(f"t{i}", f"2026-03-0{day}T10:0{step}:00Z", task_type, rng.choice(tiers),
                        attempt=step, status=rng.choice(["ok", "ok", "failed", "error"]),
                        input_tokens=rng.randrange(5000), output_tokens=rng.randrange(2000),
                        fleet=rng.choice(["a", "b"]), **fields, **extra)
            )  # fmt: skip
            fields = {}
        if rng.random() < 0.3:
            records.append(attempt(f"t{i}", f"2026-03-0{day}T11:00:00Z", task_type, "sonnet",
                                   role=rng.choice(["planner", "reviewer"])))  # fmt: skip
        if rng.random() < 0.2:
            records.append(downstream(f"t{i}", "2026-03-09T00:00:00Z"))
    return records


def test_accounting_identities_hold_on_random_fleets(tmp_path_factory):
    """The parts of every report add up to its totals, and every interval holds its rate."""
    from hypothesis import given, settings
    from hypothesis import strategies as st

    @settings(max_examples=8, deadline=None, derandomize=True)
    @given(st.integers(min_value=0, max_value=10**6))
    def check(seed):
        db = build_store(tmp_path_factory.mktemp("random"), random_fleet(seed))
        with open_store(db) as con:
            r = {name: build_report(con, name, DEFAULT, Filters()) for name in list(REPORTS)[:4]}
        s, t, e, c = r["summary"], r["tiers"], r["escalations"], r["costs"]
        assert (
            s["tasks"] == c["tasks"] == e["tasks"] == sum(x["tasks"] for x in t["by_planner_tier"])
        )
        assert s["tasks"] == sum(d["tasks"] for d in s["daily"])
        for mix in ("by_planner_tier", "by_executed_tier", "by_final_tier"):
            assert sum(x["tasks"] for x in s["tier_mix"][mix]) == s["tasks"]
        assert s["realized_usd"] == pytest.approx(c["realized_usd"])
        assert c["realized_usd"] == pytest.approx(sum(x["usd"] for x in s["daily"]))
        assert c["realized_usd"] == pytest.approx(sum(x["realized_usd"] for x in c["by_task_type"]))
        assert sum(c["overhead_usd"].values()) <= c["realized_usd"] + 1e-9
        for tier, usd in c["counterfactual_usd"].items():
            assert usd == pytest.approx(
                sum(x["counterfactual_usd"][tier] for x in c["by_task_type"])
            )
        assert c["days"] == s["days"] >= 1
        for row in t["by_task_type"] + t["by_planner_tier"] + t["by_executed_tier"]:
            low, high = row["failure_rate_ci"]
            assert low <= row["failure_rate"] <= high
            assert row["first_pass_failures"] <= row["tasks"] and row["failures"] <= row["tasks"]
        for row in e["by_task_type"]:
            assert sum(row["paths"].values()) == row["escalations"]
            assert row["rescued_tasks"] <= row["escalated_tasks"] <= row["tasks"]
            assert 0 <= row["escalation_cost_usd"] <= row["spend_usd"] + 1e-9
        assert e["escalated_tasks"] == s["escalated_tasks"]

    check()


def test_gate_failures_reads_conditions_and_skips_undefined_rates():
    from tierwatch.cli.gate import gate_failures

    result = {
        "report": "escalations",
        "empty": False,
        "escalation_rate": 0.25,
        "by_task_type": [
            {"task_type": "a", "escalation_rate": 0.5, "small_sample": False},
            {"task_type": "b", "escalation_rate": None, "small_sample": True},
            {"task_type": "c", "escalation_rate": 0.3, "small_sample": True},
        ],
    }
    assert gate_failures(result, "escalation_rate > 0.3") == [
        "by_task_type task_type 'a': escalation_rate 0.5 > 0.3"
    ]
    assert gate_failures(result, "escalation_rate>=0.3") == [
        "by_task_type task_type 'a': escalation_rate 0.5 >= 0.3",
        "by_task_type task_type 'c': escalation_rate 0.3 >= 0.3 (small sample)",
    ]
    assert gate_failures(result, "escalation_rate<0.26") == ["overall: escalation_rate 0.25 < 0.26"]
    empty = {"report": "costs", "empty": True, "message": "…"}
    assert gate_failures(empty, "realized_usd>1") == []  # an empty selection passes
    with pytest.raises(QueryError, match="has no number 'x'"):  # a misspelt key never does
        gate_failures(empty, "x>1")
    with pytest.raises(QueryError, match="not a condition"):
        gate_failures(result, "escalation_rate > high")
    with pytest.raises(QueryError, match="has no number 'cost'"):
        gate_failures(result, "cost>1")
    with pytest.raises(QueryError, match="has no number 'first_day'"):  # a date, not a number
        gate_failures({"report": "summary", "first_day": "2026-03-01"}, "first_day>0")


def test_sql_names_are_unique_across_the_three_folders_and_tables_build_tables():
    found = [p.stem for folder in queries.SQL_DIRS for p in folder.glob("*.sql")]
    assert len(found) == len(set(found)), sorted(n for n in found if found.count(n) > 1)
    for path in (queries.QUERY_DIR / "tables").glob("*.sql"):
        text = path.read_text()
        # it creates its table, or its header says the view pricing.register makes of it
        made = re.search(rf"create (or replace )?temp table {path.stem}\b", text, re.I)
        assert made or text.startswith(f"-- {path.stem}: ") and "(a temp view" in text, path
    for path in queries.QUERY_DIR.glob("*.sql"):  # a result file makes no table
        assert not re.search(r"^\s*create ", path.read_text(), re.I | re.M), path.name
