"""The routing table: observed tier per task type, flag overrides, and its four exports."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json

from tierwatch.ingest import flags
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import ensure_ladder, open_store, refresh_derived
from tierwatch.queries import Filters
from tierwatch.queries.routing_table import (
    COLUMNS,
    routing_table,
    to_csv,
    to_heuristics,
    to_json,
    to_yaml,
    yaml_string,
)

HOSTILE = 'clause "risk" 50%\' -- select; 契約 🚀'

# (task_id, task_type, planner_tier, tier, status, fleet, day)
TASKS = [
    ("h1", "html_extraction", "haiku", "haiku", "ok", "content", "2026-03-01"),
    ("h2", "html_extraction", "haiku", "haiku", "failed", "content", "2026-03-01"),
    ("h3", "html_extraction", "haiku", "haiku", "ok", "content", "2026-03-02"),
    ("h4", "html_extraction", "sonnet", "sonnet", "ok", "content", "2026-03-03"),
    ("x1", HOSTILE, "opus", "opus", "ok", "content", "2026-03-02"),
    ("x2", HOSTILE, "sonnet", "sonnet", "ok", "content", "2026-03-02"),
    ("n1", "no_planner", None, "haiku", "ok", "other", "2026-03-04"),
]


def _store(tmp_path):
    db = tmp_path / "routing.duckdb"
    with open_store(db, read_only=False) as con:
        ensure_ladder(con, load_config(None))
        for line, (task_id, task_type, planner, tier, status, fleet, day) in enumerate(TASKS):
            con.execute(
                "insert into attempts (task_id, role, attempt, ts, task_type, tier, "
                "planner_tier, input_tokens, output_tokens, status, fleet, record_hash, "
                "file_id, line) values ($id, 'executor', 1, cast($day as timestamp), $tt, "
                "$tier, $planner, 10, 5, $status, $fleet, $id, 1, $line)",
                {
                    "id": task_id,
                    "tt": task_type,
                    "tier": tier,
                    "planner": planner,
                    "status": status,
                    "fleet": fleet,
                    "day": day,
                    "line": line + 1,
                },
            )
        con.execute("create temp table touched as select distinct task_id from attempts")
        refresh_derived(con)
    return db


def test_observed_tier_is_the_most_assigned_and_flags_override(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        flags.flag(con, HOSTILE, "opus", flagged_by="ana", reason="misses\nrisk")
        routes = {r.task_type: r for r in routing_table(con)}

    html = routes["html_extraction"]
    # 3 of its 4 tasks were assigned haiku; 1 of 4 failed, 1 of the 3 haiku-assigned failed
    assert (html.observed_tier, html.routed_tier, html.source) == ("haiku", "haiku", "observed")
    assert html.tasks == 4
    assert html.failure_rate == 1 / 4
    assert html.observed_tier_failure_rate == 1 / 3
    assert html.last_day == dt.date(2026, 3, 3)

    hostile = routes[HOSTILE]
    # one task assigned sonnet, one opus: the tie goes to the cheaper tier; the flag says opus
    assert (hostile.observed_tier, hostile.routed_tier, hostile.source) == (
        "sonnet",
        "opus",
        "flag",
    )
    assert hostile.flag_reason == "misses\nrisk"

    # no planner tier given: its first executed tier counts
    assert routes["no_planner"].observed_tier == "haiku"


def test_unflag_returns_to_the_observed_tier(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        flags.flag(con, HOSTILE, "opus", flagged_by="ana")
        flags.unflag(con, HOSTILE, flagged_by="ana")
        routes = {r.task_type: r for r in routing_table(con)}
    assert (routes[HOSTILE].routed_tier, routes[HOSTILE].source) == ("sonnet", "observed")


def test_filters_bind_hostile_names(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=True) as con:
        only_hostile = routing_table(con, Filters(task_types=(HOSTILE,)))
        content = routing_table(con, Filters(fleets=("content",)))
        late = routing_table(con, Filters(since=dt.date(2026, 3, 3)))
        nothing = routing_table(con, Filters(task_types=("%",)))
    assert [r.task_type for r in only_hostile] == [HOSTILE]
    # busiest first: html_extraction (4 tasks), then the hostile type (2)
    assert [r.task_type for r in content] == ["html_extraction", HOSTILE]
    # from 2026-03-03: h4 (sonnet) and n1 only
    assert {(r.task_type, r.observed_tier, r.tasks) for r in late} == {
        ("html_extraction", "sonnet", 1),
        ("no_planner", "haiku", 1),
    }
    assert nothing == []


def test_exports_round_trip_hostile_text(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        flags.flag(con, HOSTILE, "opus", flagged_by="ana", note="a\u2028b <script>")
        routes = routing_table(con)

    records = json.loads(to_json(routes))["routing_table"]
    assert [r["task_type"] for r in records] == ["html_extraction", HOSTILE, "no_planner"]
    assert records[1]["flag_note"] == "a\u2028b <script>"
    assert records[0]["failure_rate"] == 0.25

    rows = list(csv.DictReader(io.StringIO(to_csv(routes))))
    assert tuple(rows[0]) == COLUMNS
    assert rows[1]["task_type"] == HOSTILE
    assert rows[1]["routed_tier"] == "opus"

    text = to_yaml(routes)
    # every string is a double-quoted scalar; the line separator is escaped, not raw
    assert '  - task_type: "html_extraction"' in text
    assert '    routed_tier: "opus"' in text
    assert "\u2028" not in text
    assert '    flag_note: "a\\u2028b <script>"' in text
    assert "    tasks: 4" in text
    try:  # not a dependency; where PyYAML happens to be installed, check it parses back
        import yaml
    except ImportError:
        yaml = None
    if yaml is not None:
        parsed = yaml.safe_load(text)["routing_table"]
        assert parsed[1]["task_type"] == HOSTILE
        assert parsed[1]["flag_note"] == "a\u2028b <script>"


def test_yaml_string_escapes_what_yaml_treats_as_line_breaks():
    assert yaml_string('say "hi"\n') == '"say \\"hi\\"\\n"'
    assert yaml_string("\ufeffx\x85") == '"\\ufeffx\\u0085"'
    assert yaml_string("契約 🚀") == '"契約 🚀"'


def test_heuristics_are_one_line_per_type_and_name_the_flags(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        flags.flag(con, HOSTILE, "opus", flagged_by="ana", reason="misses\nrisk")
        routes = routing_table(con)
    text = to_heuristics(routes, ("haiku", "sonnet", "opus"))
    lines = text.splitlines()
    # 7 tasks, latest day 2026-03-04
    assert lines[0] == "Routing heuristics from 7 observed tasks (data up to 2026-03-04)."
    assert lines[2] == '- "html_extraction" -> haiku (25.0% of 4 tasks failed)'
    assert (
        lines[3]
        == '- "clause \\"risk\\" 50%\' -- select; 契約 🚀" -> opus (moved from sonnet: misses risk)'
    )
    assert lines[-1] == (
        "Escalate a failed subtask one tier at a time (haiku -> sonnet -> opus); never skip a tier."
    )
    assert to_heuristics([], ("haiku",)).startswith("No task types")
    assert to_yaml([]).endswith("routing_table: []\n")
