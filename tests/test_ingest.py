"""Ingest: every validation rule against hostile records, accounting, duplicates, formats."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tierwatch.ingest.config import load_config, parse_config
from tierwatch.ingest.load import IngestError, expand_paths, ingest_paths
from tierwatch.ingest.store import StoreError

CONFIG = load_config(None)

GOOD = {
    "task_id": "t1",
    "ts": "2026-03-01T10:00:00Z",
    "task_type": "html_extraction",
    "tier": "haiku",
    "input_tokens": 2000,
    "output_tokens": 500,
}


def rec(**changes) -> dict:
    r = dict(GOOD)
    for k, v in changes.items():
        if v is ...:
            r.pop(k, None)
        else:
            r[k] = v
    return r


def write_jsonl(path: Path, records, *, newline: str = "\n") -> Path:
    lines = [r if isinstance(r, str) else json.dumps(r, ensure_ascii=False) for r in records]
    path.write_text(newline.join(lines) + newline, encoding="utf-8")
    return path


def load(tmp_path: Path, *paths, config=CONFIG):
    db = tmp_path / "tw.duckdb"
    report = ingest_paths(db, paths, config)
    return report, db


def query(db: Path, sql: str, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def single_reject(tmp_path: Path, record) -> str:
    """Load one bad record next to a good one; the bad one's reason (the good one loads)."""
    f = write_jsonl(tmp_path / "events.jsonl", [rec(task_id="good"), record])
    report, db = load(tmp_path, f)
    (result,) = report.files
    assert (result.read, result.loaded, result.rejected) == (2, 1, 1)
    assert query(db, "select task_id from attempts") == [("good",)]
    (reject,) = result.rejects
    assert reject.line == 2
    return reject.reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (rec(input_tokens=-5), "input_tokens is -5, must be an integer >= 0"),
        (rec(output_tokens=5.5), "output_tokens is 5.5, must be an integer >= 0"),
        (rec(output_tokens=True), "output_tokens is true, must be an integer >= 0"),
        (rec(input_tokens="12"), 'input_tokens is "12", must be an integer >= 0 (a string'),
        (
            rec(input_tokens=99999999999999999999),
            "input_tokens is 99999999999999999999, must be an integer >= 0, and at most",
        ),
        (rec(input_tokens=...), "input_tokens is missing; every record needs it"),
        (rec(task_id=...), "task_id is missing; every record needs it"),
        (rec(task_id=""), "task_id is empty, must be a non-empty string"),
        (rec(task_id="   "), "task_id is empty, must be a non-empty string"),
        (rec(task_id=17), "task_id is 17, must be a string"),
        (rec(task_type=["a"]), 'task_type is ["a"], must be a string'),
        (rec(ts="yesterday"), 'ts is "yesterday", must be an RFC 3339 time'),
        (rec(ts="2026-13-45T00:00:00Z"), 'ts is "2026-13-45T00:00:00Z", must be an RFC 3339'),
        (rec(ts=1767225600000), "ts is 1767225600000, must be a time between 1970 and 2100"),
        (rec(tier="gpt5"), 'tier is "gpt5", must be a tier on the ladder haiku < sonnet < opus'),
        (rec(tier=...), "tier is missing, and there is no model to map to a tier"),
        (
            rec(tier=..., model="mistral-large"),
            'tier is missing and model "mistral-large" matches no tier\'s models',
        ),
        (rec(planner_tier="large"), 'planner_tier is "large", must be a tier on the ladder'),
        (rec(attempt=0), "attempt is 0, must be an integer >= 1"),
        (rec(role="critic"), 'role is "critic", must be one of planner, executor, reviewer'),
        (rec(status="done"), 'status is "done", must be one of ok, failed, error'),
        (rec(escalation_reason="boredom"), 'escalation_reason is "boredom", must be one of'),
        (rec(confidence=1.5), "confidence is 1.5, must be a number in [0, 1] or one of high"),
        (rec(confidence=-0.1), "confidence is -0.1, must be a number in [0, 1]"),
        (rec(confidence="sure"), 'confidence is "sure", must be a number in [0, 1]'),
        (rec(cost_usd=-1), "cost_usd is -1, must be a number >= 0"),
        (json.dumps(rec()).replace("}", ', "cost_usd": 1e400}'), "cost_usd is 1e400, must be"),
        (rec(cost_usd=float("nan")), "cost_usd is NaN, must be a number >= 0"),
        (rec(latency_ms="fast"), 'latency_ms is "fast", must be a number >= 0'),
        (rec(downstream_failure="yes"), 'downstream_failure is "yes", must be true or false'),
        (
            rec(cached_input_tokens=2001),
            "cached_input_tokens is 2001, must be at most input_tokens (2000)",
        ),
        ({"record": "heartbeat", "task_id": "x"}, 'record is "heartbeat", must be attempt or'),
        ({"record": "downstream_failure", "task_id": "x"}, "ts is missing"),
        ("[1, 2, 3]", "record is a JSON array, must be a JSON object"),
        ('"just text"', "record is a JSON varchar, must be a JSON object"),
        ('{"task_id": "t1", "ts": ', "not valid JSON (the line looks cut off)"),
        ("{'task_id': 't1'}", "not valid JSON"),
    ],
)
def test_bad_record_is_rejected_with_its_reason(tmp_path, record, reason):
    assert reason in single_reject(tmp_path, record)


@pytest.mark.parametrize(
    ("model", "advice"),
    [
        # ingest/ladders.toml: "*mistral-large*" is a model of the mixed ladder's medium tier,
        # and of no other ladder
        ("mistral-large", 'in tierwatch.toml, ladder = "mixed" maps it to medium; or give tier'),
        # "*flash*" is google's flash (flash-lite's globs do not match), "*flash*" mixed's small
        (
            "vertex_ai/gemini-2.5-flash",
            'ladder = "google" maps it to flash; ladder = "mixed" maps it to small; or give',
        ),
        # no ladder knows it: every way to give a tier
        ("acme-7b", "give tier, add a models glob to the tier in tierwatch.toml, or choose a"),
    ],
)
def test_a_model_of_no_tier_is_told_which_named_ladder_maps_it(tmp_path, model, advice):
    reason = single_reject(tmp_path, rec(tier=..., model=model))
    assert reason.startswith(f'tier is missing and model "{model}" matches no tier\'s models; ')
    assert advice in reason


def test_a_family_ladder_maps_no_other_familys_models():
    """Each of the one-family ladders leaves the other families' models unmapped (their
    representatives and dated, prefixed ids), so a mixed fleet's stray model is a reject
    naming the right ladder, not an attempt on a wrong tier."""
    family = {
        "anthropic": [
            "claude-haiku-4-5",
            "anthropic/claude-sonnet-4-5-20250929",
            "claude-opus-4-1",
        ],
        "openai": ["gpt-4.1-mini-2025-04-14", "gpt-4o", "o3-2025-04-16", "openai/gpt-5"],
        "google": ["gemini-2.5-flash-lite", "vertex_ai/gemini-2.5-flash", "gemini-2.5-pro"],
    }
    for ladder, own in family.items():
        config = parse_config({"ladder": ladder}, "test")
        assert all(config.tier_for_model(m) for m in own), ladder
        strays = [m for f, ms in family.items() if f != ladder for m in ms]
        assert {m: config.tier_for_model(m) for m in strays if config.tier_for_model(m)} == {}


def test_the_ladder_in_use_is_not_offered_again(tmp_path):
    (tmp_path / "tierwatch.toml").write_text('ladder = "openai"\n')
    config = load_config(tmp_path / "tierwatch.toml")
    assert config.tier_for_model("gemini-2.5-pro") is None
    # "*gemini*pro*" is google's pro and mixed's medium; openai, in use, is not named
    assert config.no_tier_advice("gemini-2.5-pro") == (
        'in tierwatch.toml, ladder = "google" maps it to pro; ladder = "mixed" maps it to '
        "medium; or give tier, or add a models glob to a tier"
    )


def test_every_problem_of_a_record_is_named(tmp_path):
    reason = single_reject(tmp_path, rec(input_tokens=-1, tier="xl", ts="soon"))
    # in the schema's field order: ts, tier, input_tokens
    assert reason.index("ts is") < reason.index("tier is") < reason.index("input_tokens is")


def test_good_values_in_every_accepted_spelling_load(tmp_path):
    records = [
        rec(task_id="a", ts=1767225600),  # epoch seconds
        rec(task_id="b", ts=1767225600.5),
        rec(task_id="c", ts="2026-01-01T02:00:00+02:00"),  # offset -> UTC
        rec(task_id="d", ts="2026-01-01 00:00:00"),  # no offset means UTC
        rec(task_id="e", tier="OPUS", role="Reviewer", status="OK"),  # case-insensitive
        rec(task_id="f", tier=..., model="claude-3-5-SONNET-20241022"),  # model maps to tier
        rec(task_id="g", confidence="High"),
        rec(task_id="h", confidence=0, cached_input_tokens=2000, cost_usd=0),
        rec(task_id="i", downstream_failure=False, latency_ms=12.5, attempt=3),
    ]
    report, db = load(tmp_path, write_jsonl(tmp_path / "ok.jsonl", records))
    assert report.totals == {"read": 9, "loaded": 9, "duplicates": 0, "rejected": 0}
    rows = dict(
        query(db, "select task_id, struct_pack(ts, tier, role, status, confidence) from attempts")
    )
    assert str(rows["a"]["ts"]) == "2026-01-01 00:00:00"
    assert str(rows["b"]["ts"]) == "2026-01-01 00:00:00.500000"
    assert str(rows["c"]["ts"]) == "2026-01-01 00:00:00"
    assert str(rows["d"]["ts"]) == "2026-01-01 00:00:00"
    assert (rows["e"]["tier"], rows["e"]["role"], rows["e"]["status"]) == (
        "opus",
        "reviewer",
        "ok",
    )
    assert rows["f"]["tier"] == "sonnet"
    assert rows["g"]["confidence"] == 0.9  # the word high is stored as 0.9
    assert rows["h"]["confidence"] == 0.0
    assert query(db, "select confidence_label from attempts where task_id = 'g'") == [("high",)]


def test_defaults_fill_role_attempt_and_status(tmp_path):
    _, db = load(tmp_path, write_jsonl(tmp_path / "d.jsonl", [GOOD]))
    assert query(db, "select role, attempt, status, cached_input_tokens from attempts") == [
        ("executor", 1, "ok", None)
    ]


def test_unknown_fields_are_kept_in_extra(tmp_path):
    r = rec(customer="acme", nested={"a": [1, 2]}, **{"weird key'": "x"})
    _, db = load(tmp_path, write_jsonl(tmp_path / "x.jsonl", [r]))
    (extra,) = query(db, "select extra from attempts")[0]
    assert json.loads(extra) == {"customer": "acme", "nested": {"a": [1, 2]}, "weird key'": "x"}


def test_hostile_text_survives_unchanged(tmp_path):
    names = ['it\'s "quoted"', "100% _match_", "select * from attempts; --", "émoji 🚀 日本語"]
    records = [rec(task_id=f"t{i}", task_type=n, fleet=n) for i, n in enumerate(names)]
    _, db = load(tmp_path, write_jsonl(tmp_path / "h.jsonl", records))
    got = sorted(r[0] for r in query(db, "select task_type from attempts"))
    assert got == sorted(names)
    assert sorted(r[0] for r in query(db, "select task_type from tasks")) == sorted(names)


def test_bom_crlf_and_blank_lines(tmp_path):
    f = tmp_path / "win.jsonl"
    body = "\r\n".join([json.dumps(rec(task_id="a")), "", "   ", json.dumps(rec(task_id="b"))])
    f.write_bytes(b"\xef\xbb\xbf" + body.encode() + b"\r\n\r\n")
    report, db = load(tmp_path, f)
    # blank lines are not records: 2 read, and line numbers count every line
    assert report.totals == {"read": 2, "loaded": 2, "duplicates": 0, "rejected": 0}
    assert sorted(query(db, "select task_id, line from attempts")) == [("a", 1), ("b", 4)]


def test_truncated_last_line_is_rejected_and_the_rest_loads(tmp_path):
    f = tmp_path / "cut.jsonl"
    f.write_text(json.dumps(rec(task_id="a")) + "\n" + json.dumps(rec(task_id="b"))[:40])
    report, db = load(tmp_path, f)
    (result,) = report.files
    assert (result.read, result.loaded, result.rejected) == (2, 1, 1)
    assert result.rejects[0].line == 2
    assert "looks cut off" in result.rejects[0].reason


def test_invalid_utf8_line_is_rejected(tmp_path):
    f = tmp_path / "latin.jsonl"
    good = json.dumps(rec(task_id="a")).encode()
    bad = json.dumps(rec(task_id="b", task_type="café"), ensure_ascii=False).encode("latin-1")
    f.write_bytes(good + b"\n" + bad + b"\n")
    report, _ = load(tmp_path, f)
    (result,) = report.files
    assert (result.loaded, result.rejected) == (1, 1)
    assert "not valid UTF-8" in result.rejects[0].reason


def test_empty_file_reads_nothing(tmp_path):
    f = tmp_path / "empty.jsonl"
    f.write_text("")
    report, db = load(tmp_path, f)
    assert report.totals == {"read": 0, "loaded": 0, "duplicates": 0, "rejected": 0}
    assert query(db, "select path, read from ingested_files") == [(str(f), 0)]


def test_json_array_file_gets_a_conversion_hint(tmp_path):
    f = tmp_path / "array.json"
    f.write_text(json.dumps([GOOD, GOOD]))
    report, db = load(tmp_path, f)
    assert report.files == []
    ((path, why),) = report.errors
    assert "JSON array" in why and "jq -c" in why
    assert query(db, "select count(*) from attempts") == [(0,)]


def test_rejects_are_quarantined_with_their_text(tmp_path):
    f = write_jsonl(tmp_path / "q.jsonl", [GOOD, rec(task_id="bad", input_tokens=-5)])
    _, db = load(tmp_path, f)
    ((path, line, field, reason, raw),) = query(
        db, "select path, line, field, reason, raw from rejects"
    )
    assert (path, line, field) == (str(f), 2, "input_tokens")
    assert reason == "input_tokens is -5, must be an integer >= 0"
    assert json.loads(raw)["task_id"] == "bad"
    # a rejected record is never a row of NULLs
    assert query(db, "select count(*) from attempts where task_id = 'bad'") == [(0,)]


def test_duplicates_inside_one_file_and_conflicts(tmp_path):
    records = [
        rec(task_id="a"),
        rec(task_id="a"),  # the same record again: a duplicate
        rec(task_id="a", output_tokens=501),  # same identity, other content: a conflict
        rec(task_id="a", attempt=2),  # another attempt: new
    ]
    report, db = load(tmp_path, write_jsonl(tmp_path / "dup.jsonl", records))
    (result,) = report.files
    assert (result.read, result.loaded, result.duplicates, result.rejected) == (4, 2, 1, 1)
    assert "conflicts with line 1 of this file" in result.rejects[0].reason
    assert query(db, "select count(*) from attempts") == [(2,)]


def test_loading_again_and_overlapping_files_add_nothing(tmp_path):
    first = write_jsonl(tmp_path / "a.jsonl", [rec(task_id="a"), rec(task_id="b")])
    again = ingest_paths(tmp_path / "tw.duckdb", [first], CONFIG)
    assert again.totals == {"read": 2, "loaded": 2, "duplicates": 0, "rejected": 0}
    same = ingest_paths(tmp_path / "tw.duckdb", [first], CONFIG)
    assert same.totals == {"read": 2, "loaded": 0, "duplicates": 2, "rejected": 0}
    overlap = write_jsonl(tmp_path / "b.jsonl", [rec(task_id="b"), rec(task_id="c")])
    more = ingest_paths(tmp_path / "tw.duckdb", [overlap], CONFIG)
    assert more.totals == {"read": 2, "loaded": 1, "duplicates": 1, "rejected": 0}
    conflict = write_jsonl(tmp_path / "c.jsonl", [rec(task_id="c", output_tokens=1)])
    clash = ingest_paths(tmp_path / "tw.duckdb", [conflict], CONFIG)
    assert clash.totals["rejected"] == 1
    assert f"already loaded from {overlap} line 2" in clash.files[0].rejects[0].reason
    db = tmp_path / "tw.duckdb"
    assert query(db, "select count(*) from attempts") == [(3,)]
    ledger = query(db, "select read, loaded, duplicates, rejected from ingested_files")
    assert all(r[0] == r[1] + r[2] + r[3] for r in ledger)
    assert len(ledger) == 4


def test_downstream_failure_records_mark_the_task(tmp_path):
    records = [
        rec(task_id="a", confidence=0.95),
        {"record": "downstream_failure", "task_id": "a", "ts": "2026-03-02T00:00:00Z"},
        {"record": "downstream_failure", "task_id": "a", "ts": "2026-03-02T00:00:00Z"},
    ]
    report, db = load(tmp_path, write_jsonl(tmp_path / "df.jsonl", records))
    assert report.totals == {"read": 3, "loaded": 2, "duplicates": 1, "rejected": 0}
    assert query(db, "select failed, downstream_failure, silent_failure from tasks") == [
        (True, True, True)
    ]


def test_downstream_failure_in_a_later_file_updates_the_task(tmp_path):
    db = tmp_path / "tw.duckdb"
    ingest_paths(db, [write_jsonl(tmp_path / "a.jsonl", [rec(task_id="a")])], CONFIG)
    assert query(db, "select failed from tasks") == [(False,)]
    later = {"record": "downstream_failure", "task_id": "a", "ts": 1772409600}
    ingest_paths(db, [write_jsonl(tmp_path / "b.jsonl", [later])], CONFIG)
    assert query(db, "select failed, downstream_failure from tasks") == [(True, True)]


def test_chain_across_files_is_recomputed(tmp_path):
    db = tmp_path / "tw.duckdb"
    first = [rec(task_id="a", tier="haiku", status="failed", planner_tier="haiku")]
    ingest_paths(db, [write_jsonl(tmp_path / "1.jsonl", first)], CONFIG)
    second = [rec(task_id="a", tier="opus", attempt=2, escalation_reason="reviewer_reject")]
    ingest_paths(db, [write_jsonl(tmp_path / "2.jsonl", second)], CONFIG)
    row = query(
        db,
        "select tier_path, escalations, skip_tier_escalations, first_pass_failed, failed, "
        "escalation_reasons, planner_tier from tasks",
    )
    assert row == [(["haiku", "opus"], 1, 1, True, False, ["reviewer_reject"], "haiku")]


def test_task_chain_facts(tmp_path):
    records = [
        # haiku fails, retried on haiku, escalated to sonnet, ok: 1 retry, 1 escalation
        rec(task_id="a", attempt=1, tier="haiku", status="failed"),
        rec(task_id="a", attempt=2, tier="haiku", status="error"),
        rec(task_id="a", attempt=3, tier="sonnet", status="ok"),
        # opus then a step down to haiku that fails: a final failure
        rec(task_id="b", attempt=1, tier="opus", status="ok"),
        rec(task_id="b", attempt=2, tier="haiku", status="failed"),
        # planner and reviewer calls are not part of the executor chain
        rec(task_id="a", role="planner", tier="opus", planner_tier="haiku"),
        rec(task_id="a", role="reviewer", tier="opus", status="failed"),
    ]
    _, db = load(tmp_path, write_jsonl(tmp_path / "c.jsonl", records))
    rows = {
        r[0]: r[1:]
        for r in query(
            db,
            "select task_id, n_attempts, escalations, retries, step_downs, final_tier, "
            "first_pass_failed, failed, planner_tier from tasks",
        )
    }
    assert rows["a"] == (3, 1, 1, 0, "sonnet", True, False, "haiku")
    assert rows["b"] == (2, 0, 0, 1, "haiku", False, True, None)


def test_files_folders_and_globs(tmp_path):
    (tmp_path / "logs" / "deep").mkdir(parents=True)
    a = write_jsonl(tmp_path / "logs" / "a.jsonl", [rec(task_id="a")])
    b = write_jsonl(tmp_path / "logs" / "deep" / "b.jsonl", [rec(task_id="b")])
    (tmp_path / "logs" / "notes.txt").write_text("not a log")
    assert expand_paths([tmp_path / "logs"]) == [a, b]
    assert expand_paths([str(tmp_path / "logs" / "*.jsonl")]) == [a]
    assert expand_paths([a, str(tmp_path / "logs" / "**" / "*.jsonl")]) == [a, b]
    with pytest.raises(IngestError, match="no such file"):
        expand_paths([tmp_path / "missing.jsonl"])
    with pytest.raises(IngestError, match="no file matches"):
        expand_paths([str(tmp_path / "*.parquet")])


def test_gzip_jsonl_and_csv(tmp_path):
    gz = tmp_path / "a.jsonl.gz"
    with gzip.open(gz, "wt") as f:
        f.write(json.dumps(rec(task_id="a")) + "\n")
    csv_gz = tmp_path / "b.csv.gz"
    with gzip.open(csv_gz, "wt") as f:
        f.write("task_id,ts,task_type,tier,input_tokens,output_tokens\nb,2026-03-01,x,opus,1,2\n")
    report, db = load(tmp_path, gz, csv_gz)
    assert report.totals == {"read": 2, "loaded": 2, "duplicates": 0, "rejected": 0}


def test_csv_rows(tmp_path):
    f = tmp_path / "a.csv"
    f.write_bytes(
        "\ufefftask_id,ts,task_type,tier,input_tokens,output_tokens,confidence,note\r\n"
        'c1,2026-03-01T00:00:00Z,"with, comma",haiku,10,5,high,kept\r\n'
        "c2,2026-03-01T00:00:00Z,x,haiku,abc,5,,\r\n"
        "c3,2026-03-01,x,haiku,1,2\r\n"
        "\r\n"
        "c4,1767225600,émoji 🚀,Sonnet,1,2,0.5,\r\n".encode()
    )
    report, db = load(tmp_path, f)
    (result,) = report.files
    assert (result.read, result.loaded, result.rejected) == (4, 2, 2)
    assert [(r.line, r.reason) for r in result.rejects] == [
        (3, 'input_tokens is "abc", must be an integer >= 0'),
        (4, "row has 6 values but the header names 8 columns; quote values that contain commas"),
    ]
    rows = dict(
        query(db, "select task_id, struct_pack(task_type, confidence, extra) from attempts")
    )
    assert rows["c1"]["task_type"] == "with, comma"
    assert json.loads(rows["c1"]["extra"]) == {"note": "kept"}
    assert rows["c4"]["task_type"] == "émoji 🚀"
    assert rows["c4"]["confidence"] == 0.5


def test_csv_without_a_required_column(tmp_path):
    f = tmp_path / "short.csv"
    f.write_text("task_id,ts,tier,input_tokens,output_tokens\nm1,2026-03-01,haiku,1,1\n")
    report, _ = load(tmp_path, f)
    (result,) = report.files
    assert result.rejected == 1
    assert result.rejects[0].reason == (
        "the CSV header has no task_type column, which every record needs; add it"
    )


def test_parquet_with_good_and_wrong_column_types(tmp_path):
    good = tmp_path / "good.parquet"
    pq.write_table(
        pa.table(
            {
                "task_id": ["p1", "p2"],
                "ts": pa.array([1767225600000000, 1767229200000000], pa.timestamp("us", "UTC")),
                "task_type": ["x", "y"],
                "tier": ["opus", "haiku"],
                "input_tokens": pa.array([10, 20], pa.int32()),
                "output_tokens": [1, 2],
                "downstream_failure": [True, None],
            }
        ),
        good,
    )
    wrong = tmp_path / "wrong.parquet"
    pq.write_table(
        pa.table(
            {
                "task_id": ["w1", "w2"],
                "ts": ["2026-03-01T00:00:00Z", "2026-03-01T00:00:00Z"],
                "task_type": ["x", "x"],
                "tier": ["opus", "opus"],
                "input_tokens": ["10", "ten"],  # a string column where integers belong
                "output_tokens": [1.5, 2.0],
            }
        ),
        wrong,
    )
    report, db = load(tmp_path, good, wrong)
    assert [(f.read, f.loaded, f.rejected) for f in report.files] == [(2, 2, 0), (2, 0, 2)]
    assert report.files[1].rejects[0].reason.startswith('input_tokens is "10", must be an integer')
    assert "output_tokens is 1.5" in report.files[1].rejects[0].reason
    assert query(db, "select task_id, ts, downstream_failure from attempts order by 1") == [
        ("p1", __import__("datetime").datetime(2026, 1, 1, 0, 0), True),
        ("p2", __import__("datetime").datetime(2026, 1, 1, 1, 0), None),
    ]


def test_not_a_parquet_file(tmp_path):
    f = tmp_path / "fake.parquet"
    f.write_text("hello")
    report, _ = load(tmp_path, f)
    assert "not a readable Parquet file" in report.errors[0][1]


def test_unknown_suffix_needs_a_format(tmp_path):
    f = tmp_path / "events.log"
    f.write_text(json.dumps(GOOD) + "\n")
    with pytest.raises(IngestError, match="--format jsonl"):
        ingest_paths(tmp_path / "tw.duckdb", [f], CONFIG)
    report = ingest_paths(tmp_path / "tw.duckdb", [f], CONFIG, fmt="jsonl")
    assert report.totals["loaded"] == 1


def test_custom_ladder(tmp_path):
    config = parse_config(
        {
            "tiers": [
                {"name": "mini", "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6},
                {"name": "GPT4o", "input_usd_per_mtok": 2.5, "output_usd_per_mtok": 10},
                {
                    "name": "o3",
                    "input_usd_per_mtok": 10,
                    "output_usd_per_mtok": 40,
                    "models": ["o3*"],
                },
            ]
        }
    )
    records = [
        rec(task_id="a", tier="mini", status="failed"),
        rec(task_id="a", tier=..., model="o3-2025-04-16", attempt=2),
        rec(task_id="b", tier="haiku"),
    ]
    report, db = load(tmp_path, write_jsonl(tmp_path / "l.jsonl", records), config=config)
    assert report.totals["loaded"] == 2
    assert "must be a tier on the ladder mini < gpt4o < o3" in report.files[0].rejects[0].reason
    assert query(db, "select tier_path, skip_tier_escalations from tasks") == [(["mini", "o3"], 1)]
    # the store keeps the ladder it was built with
    with pytest.raises(StoreError, match="built with the ladder mini < gpt4o < o3"):
        ingest_paths(tmp_path / "tw.duckdb", [tmp_path / "l.jsonl"], CONFIG)


def test_a_store_of_rejects_only_takes_the_ladder_of_the_next_load(tmp_path):
    """A first try without the config that names the fleet's tiers rejects every record;
    the store then holds nothing named by tier, so the load with the right config takes
    its ladder instead of refusing."""
    f = write_jsonl(tmp_path / "l.jsonl", [rec(task_id="a", tier="mini")])
    db = tmp_path / "tw.duckdb"
    first = ingest_paths(db, [f], CONFIG)
    assert (first.totals["loaded"], first.totals["rejected"]) == (0, 1)
    mini = parse_config(
        {
            "tiers": [
                {"name": "mini", "input_usd_per_mtok": 0.15, "output_usd_per_mtok": 0.6},
                {"name": "o3", "input_usd_per_mtok": 10, "output_usd_per_mtok": 40},
            ]
        }
    )
    second = ingest_paths(db, [f], mini)
    assert (second.totals["loaded"], second.totals["rejected"]) == (1, 0)
    assert query(db, "select name from ladder order by rank") == [("mini",), ("o3",)]
    # now a task is named by tier: the ladder stays
    with pytest.raises(StoreError, match="built with the ladder mini < o3"):
        ingest_paths(db, [f], CONFIG)


def test_data_version_grows_only_when_rows_load(tmp_path):
    db = tmp_path / "tw.duckdb"
    f = write_jsonl(tmp_path / "a.jsonl", [GOOD])
    ingest_paths(db, [f], CONFIG)
    assert query(db, "select value from meta where key = 'data_version'") == [("1",)]
    ingest_paths(db, [f], CONFIG)  # all duplicates: nothing new to show
    assert query(db, "select value from meta where key = 'data_version'") == [("1",)]


def test_a_missing_value_is_not_the_same_as_a_moved_one(tmp_path):
    # same identity; the value "haiku" moved from planner_tier to model: different content
    records = [rec(planner_tier="haiku"), rec(model="haiku")]
    report, _ = load(tmp_path, write_jsonl(tmp_path / "moved.jsonl", records))
    (result,) = report.files
    assert (result.loaded, result.duplicates, result.rejected) == (1, 0, 1)
    assert "conflicts with line 1" in result.rejects[0].reason


def test_csv_row_that_is_not_utf8_is_rejected(tmp_path):
    f = tmp_path / "latin.csv"
    f.write_bytes(
        b"task_id,ts,task_type,tier,input_tokens,output_tokens\n"
        b"a,2026-03-01,x,haiku,1,2\n"
        b"b,2026-03-01,caf\xe9,haiku,1,2\n"
    )
    report, _ = load(tmp_path, f)
    (result,) = report.files
    assert (result.loaded, result.rejected) == (1, 1)
    assert result.rejects[0].line == 3
    assert result.rejects[0].reason == "row is not valid UTF-8; save the file as UTF-8"
