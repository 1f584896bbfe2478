"""OpenTelemetry traces in: the three real traces, and a fleet the real OTel SDK emitted.

Expected numbers for the real files were worked out by reading them (see each test); the
SDK fleet's are what the simulation did (tests/otel_fleet.py), never tierwatch's output.
"""

from __future__ import annotations

import copy
import gzip
import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import duckdb
import langfuse_fleet
import otel_fleet
import pytest
from google.protobuf import json_format

from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "otlp"
needs_data = pytest.mark.skipif(not DATA.is_dir(), reason=f"needs the real traces in {DATA}")


def config(tmp_path: Path, text: str):
    path = tmp_path / "tierwatch.toml"
    path.write_text(text)
    return load_config(path)


def rows(db: Path, sql: str, params=None) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def load(tmp_path, *paths, cfg=None, db="t.duckdb"):
    cfg = cfg or config(tmp_path, 'ladder = "mixed"\n')
    return ingest_paths(tmp_path / db, [str(p) for p in paths], cfg)


# --- the real traces -------------------------------------------------------------------


@needs_data
def test_adk_trace_one_call_usage_counted_once(tmp_path):
    # adk_py_v2_default_S1.json: 4 spans, invoke_workflow > invoke_agent assistant >
    # call_llm > generate_content gemini-2.5-flash. call_llm and generate_content both
    # carry input 12 / output 9 (intValue as strings): one call, the leaf. 3 log records.
    report = load(tmp_path, DATA / "adk_py_v2_default_S1.json")
    f = report.files[0]
    assert (f.format, f.read, f.loaded, f.rejected, f.skipped) == ("otlp", 7, 1, 0, 6)
    assert f.skipped_kinds == Counter(
        {
            "log records": 3,
            "wrappers repeating a model call's usage": 1,
            "agent runs": 1,
            "other spans": 1,
        }
    )
    got = rows(
        tmp_path / "t.duckdb",
        "select task_id, task_type, tier, model, input_tokens, output_tokens, fleet, agent "
        "from attempts",
    )
    assert got == [
        (
            "391cdf299ef40d789188dbcf392e2795/eeb0d5c884c75d11",  # trace / invoke_agent span
            "assistant",
            "small",
            "gemini-2.5-flash",
            12,
            9,
            "adk-empirical",
            "assistant",
        )
    ]


@needs_data
def test_tempo_export_nested_usage_and_one_attempt(tmp_path):
    # tempo_export_with_batches.json: 86 spans in Tempo's batches/instrumentationLibrarySpans
    # wrapper; 6 carry usage: call_llm > generate_content gpt-4.1-mini > openai.chat, twice.
    # The leaves are the two openai.chat spans (2256/13 and 2392/116, response model
    # gpt-4.1-mini-2025-04-14), both in the run `invoke_agent helm_agent`: 1 attempt.
    report = load(tmp_path, DATA / "tempo_export_with_batches.json")
    f = report.files[0]
    assert (f.read, f.loaded, f.rejected) == (86, 1, 0)
    assert f.skipped_kinds["wrappers repeating a model call's usage"] == 4
    assert f.skipped_kinds["model calls folded into their run's attempt"] == 1
    assert f.read == f.loaded + f.skipped
    got = rows(
        tmp_path / "t.duckdb",
        "select task_type, tier, model, input_tokens, output_tokens, "
        "extra->>'$.\"source.calls\"' from attempts",
    )
    assert got == [("helm_agent", "small", "gpt-4.1-mini-2025-04-14", 4648, 129, "2")]


@needs_data
def test_litellm_otel_output_keeps_its_logged_cost(tmp_path):
    # litellm_capture.json: 2 spans, pretty-printed over 600 lines. litellm_request holds
    # usage 412 / 27 and gen_ai.cost.total_cost 5.88e-05; raw_gen_ai_request has no usage.
    # No agent run: one attempt per call, the trace as its task.
    report = load(tmp_path, DATA / "litellm_capture.json")
    f = report.files[0]
    assert (f.read, f.loaded, f.skipped) == (2, 1, 1)
    got = rows(
        tmp_path / "t.duckdb",
        "select task_id, task_type, model, input_tokens, output_tokens, cost_usd from attempts",
    )
    assert got == [
        (
            "b1d8ae1b3fb8f0217735e4f3496c3bdf",
            "litellm_request",
            "gpt-4o-mini-2024-07-18",
            412,
            27,
            pytest.approx(5.88e-05),
        )
    ]


@needs_data
def test_default_ladder_rejects_with_trace_span_and_a_fix(tmp_path):
    cli = subprocess.run(
        [sys.executable, "-m", "tierwatch", "ingest", str(DATA / "litellm_capture.json")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 1
    assert (
        "litellm_capture.json line 1, trace b1d8ae1b3fb8f0217735e4f3496c3bdf span "
        'a5f632a15409374f: tier is missing and model "gpt-4o-mini-2024-07-18" matches no '
        "tier's models" in cli.stdout
    )
    assert 'ladder = \\"openai\\"' not in cli.stdout and 'ladder = "openai"' in cli.stdout
    assert "Traceback" not in cli.stderr


@needs_data
def test_named_ladders_map_dated_and_family_ids(tmp_path):
    google = config(tmp_path, 'ladder = "google"\n')
    assert google.tier_for_model("gemini-2.5-flash") == "flash"
    assert google.tier_for_model("vertex_ai/gemini-2.5-pro") == "pro"
    assert google.tier_for_model("gemini-2.0-flash-lite-001") == "flash-lite"
    openai = config(tmp_path, 'ladder = "openai"\n')
    assert openai.tier_for_model("gpt-4.1-mini-2025-04-14") == "mini"
    assert openai.tier_for_model("openai/gpt-4o") == "standard"
    assert openai.tier_for_model("o3-2025-04-16") == "reasoning"
    anthropic = config(tmp_path, 'ladder = "anthropic"\n')
    assert anthropic.tier_for_model("anthropic/claude-3-5-haiku-20241022") == "haiku"
    # a tier's price is its representative's: gpt-4.1-mini at $0.40 / $1.60 per Mtok
    mini = openai.tier("mini")
    assert mini.representative == "gpt-4.1-mini"
    assert (mini.price.input_usd_per_mtok, mini.price.output_usd_per_mtok) == pytest.approx(
        (0.40, 1.60)
    )


# --- a fleet emitted by the real OpenTelemetry SDK -------------------------------------


@pytest.fixture(scope="module")
def fleet():
    return otel_fleet.simulate(jobs=12, seed=42)


def _article_config(tmp_path):
    return config(tmp_path, "")  # the built-in haiku < sonnet < opus ladder


def test_sdk_fleet_protobuf_matches_the_simulation(tmp_path, fleet):
    pb = tmp_path / "fleet.pb"
    pb.write_bytes(fleet.request().SerializeToString())
    report = load(tmp_path, pb, cfg=_article_config(tmp_path))
    f = report.files[0]
    executor_attempts = sum(len(t.attempts) for t in fleet.truth)
    assert f.rejected == 0
    # executor + reviewer attempts (one review per executor attempt) + planner calls
    assert f.loaded == executor_attempts * 2 + fleet.planner_calls
    assert f.read == len(fleet.spans) == f.loaded + f.skipped
    db = tmp_path / "t.duckdb"
    got = {
        r[0]: r[1:]
        for r in rows(
            db,
            "select task_id, task_type, planner_tier, n_attempts, tier_path, escalations, "
            "first_status, final_status from tasks",
        )
    }
    want = {
        t.task_id: (
            t.task_type,
            t.planner_tier,
            len(t.attempts),
            [a.tier for a in t.attempts],
            len(t.attempts) - 1,
            "failed" if t.attempts[0].rejected else "ok",
            "failed" if t.attempts[-1].rejected else "ok",
        )
        for t in fleet.truth
    }
    assert got == want
    # tokens per tier of the executors' successful calls (the 0-token 429 calls add none)
    tokens = Counter()
    for t in fleet.truth:
        for a in t.attempts:
            tokens[a.tier] += a.input_tokens
    assert dict(
        rows(
            db,
            "select tier, sum(input_tokens) from attempts where role = 'executor' group by tier",
        )
    ) == dict(tokens)
    reasons = rows(
        db,
        "select distinct escalation_reason from attempts where role = 'executor' and attempt > 1",
    )
    assert reasons == [("reviewer_reject",)]
    assert rows(db, "select role, count(*) from attempts group by role order by role") == [
        ("executor", executor_attempts),
        ("planner", fleet.planner_calls),
        ("reviewer", fleet.reviewer_calls),
    ]
    # an HTTP retry after a 429 inside a run is folded into the run's attempt, not counted
    assert f.skipped_kinds["model calls folded into their run's attempt"] > 0


def test_the_same_spans_as_json_gzip_and_per_line_are_duplicates(tmp_path, fleet):
    cfg = _article_config(tmp_path)
    request = fleet.request()
    first = load(tmp_path, _write(tmp_path / "a.pb", request.SerializeToString()), cfg=cfg)
    loaded = first.files[0].loaded
    # protobuf's JSON mapping writes ids in base64: they must decode to the same ids
    as_base64 = tmp_path / "b.json"
    as_base64.write_text(json_format.MessageToJson(request))
    # the Collector's file exporter: one request per line, hex ids, enum names as numbers
    per_line = tmp_path / "c.json"
    per_line.write_text("\n".join(json.dumps(r) for r in _hex_requests(request)) + "\n")
    gz = tmp_path / "d.pb.gz"
    gz.write_bytes(gzip.compress(request.SerializeToString()))
    again = load(tmp_path, as_base64, per_line, gz, cfg=cfg)
    for f in again.files:
        assert (f.format, f.loaded, f.duplicates, f.rejected) == ("otlp", 0, loaded, 0), f.path


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def _hex_requests(request) -> list[dict]:
    """The request split into one request per resource span, ids in hex, kinds as numbers."""
    doc = otel_fleet.otlp_json(request)
    out = []
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                s["kind"] = {"SPAN_KIND_INTERNAL": 1}.get(s.get("kind"), 1)
            half = len(ss["spans"]) // 2
            for part in (ss["spans"][:half], ss["spans"][half:]):
                one = copy.deepcopy(rs)
                one["scopeSpans"] = [{**ss, "spans": part}]
                out.append({"resourceSpans": [one]})
    return out


def test_without_task_ids_each_agent_run_is_a_task(tmp_path):
    plain = otel_fleet.simulate(jobs=3, seed=7, with_task_ids=False)
    pb = _write(tmp_path / "plain.pb", plain.request().SerializeToString())
    load(tmp_path, pb, cfg=_article_config(tmp_path))
    executor_runs = sum(len(t.attempts) for t in plain.truth)
    # default: the task is the nearest invoke_agent span, so every executor run is a task
    assert rows(tmp_path / "t.duckdb", "select count(*) from tasks") == [(executor_runs,)]
    assert rows(tmp_path / "t.duckdb", "select distinct task_type from tasks order by 1") == sorted(
        {(t.task_type,) for t in plain.truth}
    )


def _span(trace: str, span: str, **attrs) -> dict:
    return {
        "traceId": trace,
        "spanId": span,
        "name": "chat",
        "kind": "SPAN_KIND_CLIENT",
        "startTimeUnixNano": "1790000000000000000",
        "endTimeUnixNano": "1790000001000000000",
        "attributes": [
            {"key": k, "value": {"intValue": v} if isinstance(v, int) else {"stringValue": v}}
            for k, v in attrs.items()
        ],
        "status": {"code": "STATUS_CODE_OK"},
    }


def _doc(*spans) -> dict:
    return {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": list(spans)}]}]}


def test_a_model_call_that_breaks_a_rule_names_trace_span_and_field(tmp_path):
    trace = "ab" * 16
    bad = _span(
        trace,
        "cd" * 8,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude-3-5-haiku",
            "gen_ai.usage.input_tokens": -5,
            "gen_ai.usage.output_tokens": 3,
        },
    )
    path = tmp_path / "bad.json"
    path.write_text(json.dumps(_doc(bad)))
    f = load(tmp_path, path, cfg=_article_config(tmp_path)).files[0]
    assert (f.read, f.loaded, f.rejected) == (1, 0, 1)
    r = f.rejects[0]
    assert r.where == f"line 1, trace {trace} span {'cd' * 8}"
    assert r.field == "input_tokens"
    assert r.reason == "input_tokens is -5, must be an integer >= 0"


def test_mapping_override_points_the_planner_tier_at_a_fleets_attribute(tmp_path):
    span = _span(
        "12" * 16,
        "34" * 8,
        **{
            "gen_ai.operation.name": "chat",
            "gen_ai.request.model": "claude-3-5-haiku",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 3,
            "app.routing.tier": "sonnet",
        },
    )
    path = tmp_path / "spans.json"
    path.write_text(json.dumps(_doc(span)))
    cfg = config(tmp_path, '[sources.otlp]\nplanner_tier = ["app.routing.tier"]\n')
    load(tmp_path, path, cfg=cfg)
    assert rows(tmp_path / "t.duckdb", "select tier, planner_tier from attempts") == [
        ("haiku", "sonnet")
    ]


def test_bad_mapping_key_is_a_config_error(tmp_path):
    from tierwatch.ingest.config import ConfigError

    with pytest.raises(ConfigError, match=r"\[sources.otlp\] has unknown key 'planer_tier'"):
        config(tmp_path, '[sources.otlp]\nplaner_tier = ["x"]\n')


def test_a_bad_line_of_a_per_line_file_is_rejected_and_the_rest_loads(tmp_path):
    span = _span(
        "56" * 16,
        "78" * 8,
        **{
            "gen_ai.request.model": "claude-sonnet-4-5",
            "gen_ai.usage.input_tokens": 10,
            "gen_ai.usage.output_tokens": 3,
        },
    )
    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps(_doc(span)) + "\n" + '{"resourceSpans": [\n')
    f = load(tmp_path, path, cfg=_article_config(tmp_path)).files[0]
    assert (f.loaded, f.rejected) == (1, 1)
    assert f.rejects[0].where == "line 2"
    assert f.rejects[0].reason.startswith("not valid JSON")


def test_garbage_protobuf_is_a_message_not_a_traceback(tmp_path):
    (tmp_path / "x.pb").write_bytes(b"\x0a\xff\xff\xff\xff\x0f garbage")
    cli = subprocess.run(
        [sys.executable, "-m", "tierwatch", "ingest", "x.pb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert cli.returncode == 2
    assert "x.pb: not an OTLP protobuf ExportTraceServiceRequest" in cli.stderr
    assert "Traceback" not in cli.stderr


def test_dashboard_says_what_traces_lack_on_the_planner_tiers_page(tmp_path, monkeypatch):
    # traces without tierwatch.planner.tier: the page names the attribute to add
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tierwatch.dashboard.settings import APP

    plain = otel_fleet.simulate(jobs=2, seed=3)
    request = plain.request()
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                kept = [a for a in span.attributes if a.key != "tierwatch.planner.tier"]
                del span.attributes[:]
                span.attributes.extend(kept)
    pb = _write(tmp_path / "no_planner.pb", request.SerializeToString())
    db = tmp_path / "t.duckdb"
    assert load(tmp_path, pb, cfg=_article_config(tmp_path)).files[0].loaded > 0
    monkeypatch.setenv("TIERWATCH_DB", str(db))
    monkeypatch.delenv("TIERWATCH_CONFIG", raising=False)
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/planner_tiers.py").run()
    assert not at.exception, [e.value for e in at.exception]
    assert any("tierwatch.planner.tier" in i.value for i in at.info)
    st.cache_data.clear()


def test_costs_page_states_each_tiers_representative_model_and_price_source(tmp_path, monkeypatch):
    # with ladder = "openai", all-T prices each call at T's representative model's price
    # from the price library (ingest/ladders.toml names them: gpt-4.1-mini, gpt-4.1, o3)
    import genai_prices
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tierwatch.dashboard.settings import APP

    cfg_path = tmp_path / "tierwatch.toml"
    cfg_path.write_text('ladder = "openai"\n')
    fleet = otel_fleet.simulate(jobs=2, seed=8)
    request = fleet.request()
    for rs in request.resource_spans:
        for ss in rs.scope_spans:
            for span in ss.spans:
                for a in span.attributes:
                    if a.key == "gen_ai.request.model":
                        a.value.string_value = "gpt-4.1-mini-2025-04-14"
                    if a.key == "tierwatch.planner.tier":
                        a.value.string_value = "mini"
    pb = _write(tmp_path / "openai.pb", request.SerializeToString())
    assert load(tmp_path, pb, cfg=load_config(cfg_path)).files[0].loaded > 0
    monkeypatch.setenv("TIERWATCH_DB", str(tmp_path / "t.duckdb"))
    monkeypatch.setenv("TIERWATCH_CONFIG", str(cfg_path))
    st.cache_data.clear()
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.run()
    at.switch_page("views/costs.py").run()
    assert not at.exception, [e.value for e in at.exception]
    shown = next(df.value for df in at.dataframe if "price_from" in df.value.columns)
    assert list(shown["tier"]) == ["mini", "standard", "reasoning"]
    assert list(shown["representative"]) == ["gpt-4.1-mini", "gpt-4.1", "o3"]
    assert set(shown["price_from"]) == {f"genai-prices {genai_prices.__version__}"}
    st.cache_data.clear()


def test_a_conflict_between_spans_names_trace_and_span_of_both(tmp_path):
    # the fleet gives two different runs the same task id and attempt number: the second
    # is a conflict, and the message says where the first one is by trace and span (a
    # source file's "line" would be a record number, not a line)
    def run(trace: str, span: str, tokens: int) -> dict:
        return {
            "traceId": trace,
            "spanId": span,
            "name": "chat claude-3-5-haiku-20241022",
            "startTimeUnixNano": "1790000000000000000",
            "endTimeUnixNano": "1790000001000000000",
            "attributes": [
                {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                {"key": "gen_ai.request.model", "value": {"stringValue": "claude-3-5-haiku"}},
                {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(tokens)}},
                {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "10"}},
                {"key": "tierwatch.task.id", "value": {"stringValue": "T9"}},
                {"key": "tierwatch.attempt", "value": {"intValue": "1"}},
            ],
        }

    first = run("a" * 32, "1" * 16, 100)
    second = run("b" * 32, "2" * 16, 200)
    doc = {"resourceSpans": [{"scopeSpans": [{"spans": [first, second]}]}]}
    path = _write(tmp_path / "conflict.json", json.dumps(doc).encode())
    f = load(tmp_path, path, cfg=_article_config(tmp_path)).files[0]
    assert (f.loaded, f.rejected) == (1, 1)
    (reject,) = f.rejects
    assert reject.where == f"line 1, trace {'b' * 32} span {'2' * 16}"
    assert reject.reason.startswith(
        f"conflicts with line 1, trace {'a' * 32} span {'1' * 16} of this file"
    )
    # loaded again into the same store with the first changed, it names the record
    first["attributes"][2]["value"]["intValue"] = "150"
    again = _write(tmp_path / "again.json", json.dumps(doc).encode())
    g = load(tmp_path, again, cfg=_article_config(tmp_path)).files[0]
    assert g.rejected >= 1
    assert any(
        r.reason.startswith(f"conflicts with the record already loaded from {path} record ")
        for r in g.rejects
    ), [r.reason for r in g.rejects]


def _per_trace_lines(request) -> list[dict]:
    """One OTLP/JSON request per trace, in the order the traces end (as an exporter sends
    them: a trace's spans come before the next trace's), ids in hex."""
    doc = otel_fleet.otlp_json(request)
    rs = doc["resourceSpans"][0]
    by_trace: dict[str, list] = {}
    for s in rs["scopeSpans"][0]["spans"]:
        by_trace.setdefault(s["traceId"], []).append(s)
    return [
        {"resourceSpans": [{**rs, "scopeSpans": [{**rs["scopeSpans"][0], "spans": spans}]}]}
        for spans in by_trace.values()
    ]


ATTEMPT_ROWS = (
    "select task_id, role, attempt, tier, input_tokens, output_tokens, status, "
    "escalation_reason, planner_tier from attempts order by all"
)


def test_a_request_per_line_file_is_folded_in_blocks_to_the_same_attempts(
    tmp_path, fleet, monkeypatch
):
    # memory must not grow with the file: a request-per-line file is folded in blocks of
    # spans, a trace one block after its root. With blocks of 7 spans (a job's trace has
    # 20 or more) every trace is folded on its own, and the attempts are the same as the
    # whole file folded at once
    from tierwatch.ingest import sources

    lines = _per_trace_lines(fleet.request())
    assert len(lines) == 12
    path = _write(tmp_path / "per_trace.json", "\n".join(json.dumps(x) for x in lines).encode())
    cfg = _article_config(tmp_path)
    whole = load(tmp_path, path, cfg=cfg, db="whole.duckdb").files[0]
    monkeypatch.setattr(sources, "OTLP_BLOCK_SPANS", 7)
    blocks = load(tmp_path, path, cfg=cfg, db="blocks.duckdb").files[0]
    assert (blocks.read, blocks.loaded, blocks.rejected, blocks.skipped) == (
        whole.read,
        whole.loaded,
        whole.rejected,
        whole.skipped,
    )
    assert rows(tmp_path / "blocks.duckdb", ATTEMPT_ROWS) == rows(
        tmp_path / "whole.duckdb", ATTEMPT_ROWS
    )


def test_in_blocks_a_named_task_goes_on_across_traces_and_a_stray_span_is_rejected(
    tmp_path, monkeypatch
):
    # task T1 (named by the fleet) is tried on haiku in one trace, failed by its reviewer,
    # and retried on sonnet in another trace, blocks apart: attempts 1 and 2, the second's
    # reason reviewer_reject. A span of the first trace written far after it is a reject
    # naming trace, span and why, not a third attempt
    from tierwatch.ingest import sources

    def trace(trace_id: str, model: str, verdict: str, tokens: int, task: str = "T1") -> dict:
        run, call = trace_id[:14] + "0a", trace_id[:14] + "0b"
        attrs = [
            {"key": "gen_ai.operation.name", "value": {"stringValue": "invoke_agent"}},
            {"key": "tierwatch.task.id", "value": {"stringValue": task}},
            {"key": "tierwatch.task.type", "value": {"stringValue": "extraction"}},
        ]
        spans = [
            {
                "traceId": trace_id,
                "spanId": call,
                "parentSpanId": run,
                "name": f"chat {model}",
                "startTimeUnixNano": str(1790000000 * 10**9 + tokens),
                "endTimeUnixNano": str(1790000001 * 10**9 + tokens),
                "attributes": [
                    {"key": "gen_ai.operation.name", "value": {"stringValue": "chat"}},
                    {"key": "gen_ai.request.model", "value": {"stringValue": model}},
                    {"key": "gen_ai.usage.input_tokens", "value": {"intValue": str(tokens)}},
                    {"key": "gen_ai.usage.output_tokens", "value": {"intValue": "10"}},
                ],
            },
            {
                "traceId": trace_id,
                "spanId": run,
                "name": "invoke_agent executor",
                "startTimeUnixNano": str(1790000000 * 10**9 + tokens),
                "endTimeUnixNano": str(1790000002 * 10**9 + tokens),
                "attributes": attrs,
                "events": [
                    {
                        "name": "gen_ai.evaluation.result",
                        "attributes": [
                            {
                                "key": "gen_ai.evaluation.score.label",
                                "value": {"stringValue": verdict},
                            }
                        ],
                    }
                ],
            },
        ]
        return {"resourceSpans": [{"scopeSpans": [{"spans": spans}]}]}

    first = trace("a1" * 16, "claude-3-5-haiku-20241022", "fail", 100)
    second = trace("b2" * 16, "claude-sonnet-4-5", "pass", 200)
    stray = copy.deepcopy(first)
    stray["resourceSpans"][0]["scopeSpans"][0]["spans"] = [
        {**stray["resourceSpans"][0]["scopeSpans"][0]["spans"][1], "spanId": "ff" * 8}
    ]
    filler = [
        trace(f"{i:02x}" * 16, "claude-3-5-haiku-20241022", "pass", i, task=f"F{i}") for i in (1, 2)
    ]
    lines = [first, *filler, second, stray]
    path = _write(tmp_path / "retried.json", "\n".join(json.dumps(x) for x in lines).encode())
    monkeypatch.setattr(sources, "OTLP_BLOCK_SPANS", 2)
    f = load(tmp_path, path, cfg=_article_config(tmp_path)).files[0]
    got = rows(
        tmp_path / "t.duckdb",
        "select attempt, tier, status, escalation_reason from attempts "
        "where task_id = 'T1' order by attempt",
    )
    assert got == [(1, "haiku", "failed", None), (2, "sonnet", "ok", "reviewer_reject")]
    (reject,) = f.rejects
    assert reject.where == "line 5" and f"span {'ff' * 8} of trace {'a1' * 16}" in reject.reason
    assert f.read == f.loaded + f.duplicates + f.rejected + f.skipped


# --- the Langfuse SDK as a producer ------------------------------------------------------


def test_langfuse_sdk_fleet_matches_the_simulation(tmp_path):
    # the real Langfuse SDK's spans: langfuse.* attributes only (usage and cost as JSON
    # text, metadata flattened with JSON-encoded values), no gen_ai.* at all
    fleet, logged_cost = langfuse_fleet.simulate(jobs=8, seed=7)
    pb = _write(tmp_path / "langfuse.pb", fleet.request().SerializeToString())
    report = load(tmp_path, pb, cfg=_article_config(tmp_path))
    f = report.files[0]
    executor_attempts = sum(len(t.attempts) for t in fleet.truth)
    assert f.rejected == 0
    assert f.loaded == executor_attempts * 2 + fleet.planner_calls
    assert f.read == len(fleet.spans) == f.loaded + f.skipped
    # per job: the job span and the plan chain; per attempt: the executor and reviewer
    # agent observations and the tool observation
    assert f.skipped_kinds["agent runs"] == executor_attempts * 2
    assert f.skipped_kinds["tool calls"] == executor_attempts
    db = tmp_path / "t.duckdb"
    got = {
        r[0]: r[1:]
        for r in rows(
            db,
            "select task_id, task_type, planner_tier, n_attempts, tier_path, first_status, "
            "final_status from tasks where task_id like 'lf-%'",
        )
    }
    want = {
        t.task_id: (
            t.task_type,
            t.planner_tier,
            len(t.attempts),
            [a.tier for a in t.attempts],
            "failed" if t.attempts[0].rejected else "ok",
            "failed" if t.attempts[-1].rejected else "ok",
        )
        for t in fleet.truth
    }
    assert got == want
    # the cost the fleet logged, per tier, summed over the executors' calls
    stored = dict(
        rows(
            db,
            "select tier, sum(cost_usd) from attempts where role = 'executor' group by tier",
        )
    )
    assert stored.keys() == logged_cost.keys()
    for tier, cost in logged_cost.items():
        assert stored[tier] == pytest.approx(cost, rel=1e-9)
    assert rows(db, "select role, count(*) from attempts group by role order by role") == [
        ("executor", executor_attempts),
        ("planner", fleet.planner_calls),
        ("reviewer", fleet.reviewer_calls),
    ]
    assert rows(db, "select distinct fleet from attempts") == [(langfuse_fleet.FLEET,)]
    reasons = rows(
        db,
        "select distinct escalation_reason from attempts where role = 'executor' and attempt > 1",
    )
    assert reasons == [("reviewer_reject",)]


def test_json_valued_attributes_and_raw_metadata_of_older_sdks(tmp_path):
    # Langfuse v2/v3 SDKs wrote metadata raw ("t9", not '"t9"'); usage may use OpenAI's
    # keys; a call may say ERROR only by its level. One span, worked out by hand.
    def attr(key, value):
        return {"key": key, "value": {"stringValue": value}}

    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": "b7ad6b7169203331",
        "name": "answer",
        "startTimeUnixNano": "1790000000000000000",
        "endTimeUnixNano": "1790000001500000000",
        "attributes": [
            attr("langfuse.observation.type", "generation"),
            attr("langfuse.observation.model.name", "claude-3-5-haiku-20241022"),
            attr(
                "langfuse.observation.usage_details",
                '{"prompt_tokens": 40, "completion_tokens": 7}',
            ),
            attr("langfuse.observation.level", "ERROR"),
            attr("langfuse.observation.metadata.task_id", "t9"),
            attr("langfuse.observation.metadata.planner_tier", "haiku"),
            attr("langfuse.trace.metadata.fleet", '"search"'),
        ],
    }
    doc = {"resourceSpans": [{"resource": {}, "scopeSpans": [{"spans": [span]}]}]}
    path = tmp_path / "old.json"
    path.write_text(json.dumps(doc))
    f = load(tmp_path, path, cfg=_article_config(tmp_path)).files[0]
    assert (f.loaded, f.rejected, f.skipped) == (1, 0, 0)
    assert rows(
        tmp_path / "t.duckdb",
        "select task_id, tier, planner_tier, input_tokens, output_tokens, status, fleet, "
        "latency_ms from attempts",
    ) == [("t9", "haiku", "haiku", 40, 7, "error", "search", 1500.0)]


def test_a_langfuse_agent_without_tierwatch_keys_is_one_task_named_by_the_agent(tmp_path):
    # nothing but what the Langfuse SDK writes: the agent observation is the run and the
    # task, its name the task type; its two generations (a tool call between) one attempt
    from langfuse import Langfuse
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    lf = Langfuse(
        public_key="pk-lf-plain-agent",
        secret_key="sk-lf-test",
        base_url="http://127.0.0.1:9",
        span_exporter=exporter,
        tracer_provider=TracerProvider(),
    )
    with lf.start_as_current_observation(as_type="agent", name="summariser"):
        for tokens in ((300, 40), (500, 90)):
            with lf.start_as_current_observation(
                as_type="generation", name="llm", model="gpt-4o-mini-2024-07-18"
            ) as g:
                g.update(usage_details={"input": tokens[0], "output": tokens[1]})
            with lf.start_as_current_observation(as_type="tool", name="search"):
                pass
    lf.shutdown()
    pb = _write(
        tmp_path / "plain.pb", encode_spans(exporter.get_finished_spans()).SerializeToString()
    )
    f = load(tmp_path, pb).files[0]
    assert (f.read, f.loaded, f.skipped, f.rejected) == (5, 1, 4, 0)
    assert rows(
        tmp_path / "t.duckdb",
        "select task_type, tier, input_tokens, output_tokens, fleet, source_calls "
        "from (select *, extra['source.calls'] as source_calls from attempts)",
    ) == [("summariser", "small", 800, 130, None, "2")]
