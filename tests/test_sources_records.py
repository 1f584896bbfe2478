"""LiteLLM logs and Langfuse exports in.

LiteLLM is run for real, offline (`mock_response`, a Router with two model groups, a custom
logger writing the StandardLoggingPayload LiteLLM itself builds). The SpendLogs CSV and the
Langfuse observations are written by hand in the shape their exports have, with the
expected numbers worked out below.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from test_sources_otlp import rows

from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths

LITELLM_FLEET = textwrap.dedent(
    """
    import json, os, sys
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # offline: the wheel's own price map
    import litellm
    from litellm import Router
    from litellm.integrations.custom_logger import CustomLogger

    out = open(sys.argv[1], "w")

    class Payloads(CustomLogger):
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            out.write(json.dumps(kwargs["standard_logging_object"], default=str) + "\\n")
            out.flush()

    litellm.callbacks = [Payloads()]
    router = Router(model_list=[
        {"model_name": "haiku", "litellm_params": {
            "model": "anthropic/claude-3-5-haiku-20241022", "api_key": "x",
            "mock_response": "extracted"}},
        {"model_name": "sonnet", "litellm_params": {
            "model": "anthropic/claude-sonnet-4-5", "api_key": "x",
            "mock_response": "classified"}},
    ])
    # task t1: planned on haiku, done on haiku; task t2: planned on haiku, retried on sonnet
    for task, group, kind in [("t1", "haiku", "extraction"), ("t2", "haiku", "classification"),
                              ("t2", "sonnet", "classification")]:
        router.completion(
            model=group, messages=[{"role": "user", "content": "go"}],
            metadata={"spend_logs_metadata": {"task_id": task, "task_type": kind,
                                              "planner_tier": "haiku"}})
    import time; time.sleep(1.5)  # LiteLLM's success callbacks run on a thread
    """
)


def run_litellm(tmp_path: Path, script_text: str) -> Path:
    """Run a LiteLLM script (offline, with its own logger) in a fresh process; the file of
    payloads its logger wrote."""
    script = tmp_path / "fleet.py"
    script.write_text(script_text)
    out = tmp_path / "payloads.json"
    run = subprocess.run(
        [sys.executable, str(script), str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        env={**os.environ, "LITELLM_LOG": "ERROR"},
    )
    assert run.returncode == 0, run.stderr[-2000:]
    return out


def config(tmp_path: Path, text: str = ""):
    path = tmp_path / "tierwatch.toml"
    path.write_text(text)
    return load_config(path)


def test_litellm_standard_logging_payloads_from_litellm_itself(tmp_path):
    pytest.importorskip("litellm")
    out = run_litellm(tmp_path, LITELLM_FLEET)
    assert len(out.read_text().splitlines()) == 3
    report = ingest_paths(tmp_path / "t.duckdb", [str(out)], config(tmp_path))
    f = report.files[0]
    assert (f.format, f.read, f.loaded, f.rejected) == ("litellm", 3, 3, 0)
    db = tmp_path / "t.duckdb"
    assert rows(
        db, "select task_id, task_type, tier_path, escalations, planner_tier from tasks order by 1"
    ) == [
        ("t1", "extraction", ["haiku"], 0, "haiku"),
        ("t2", "classification", ["haiku", "sonnet"], 1, "haiku"),
    ]
    # the cost LiteLLM computed is the cost tierwatch keeps
    logged = [json.loads(line)["response_cost"] for line in out.read_text().splitlines()]
    assert rows(db, "select sum(cost_usd) from attempts") == [(pytest.approx(sum(logged)),)]


SPEND_LOGS = [
    # request_id, startTime, endTime, model, model_group, spend, prompt, completion, status,
    # metadata (JSON text, as psql writes it), request_tags
    (
        "r1",
        "2026-03-01 10:00:00",
        "2026-03-01 10:00:02",
        "claude-3-5-haiku-20241022",
        "haiku",
        "0.0004",
        "300",
        "40",
        "failure",
        '{"spend_logs_metadata": {"task_id": "job-1"}}',
        '["taskName:triage"]',
    ),
    (
        "r2",
        "2026-03-01 10:00:03",
        "2026-03-01 10:00:06",
        "claude-sonnet-4-5",
        "sonnet",
        "0.0021",
        "300",
        "80",
        "success",
        '{"spend_logs_metadata": {"task_id": "job-1"}}',
        '["taskName:triage"]',
    ),
    (
        "r3",
        "2026-03-01 11:00:00",
        "2026-03-01 11:00:01",
        "claude-3-5-haiku-20241022",
        "haiku",
        "0.0002",
        "100",
        "20",
        "success",
        "{}",
        '["taskName:summarize"]',
    ),
]


def test_litellm_spend_logs_csv_with_a_failure_and_a_fallback(tmp_path):
    path = tmp_path / "spend_logs.csv"
    with path.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(
            "request_id startTime endTime model model_group spend prompt_tokens "
            "completion_tokens status metadata request_tags".split()
        )
        w.writerows(SPEND_LOGS)
    report = ingest_paths(tmp_path / "t.duckdb", [str(path)], config(tmp_path))
    f = report.files[0]
    assert (f.format, f.loaded, f.rejected) == ("litellm", 3, 0)
    db = tmp_path / "t.duckdb"
    # job-1: r1 failed on haiku, r2 succeeded on sonnet -> one escalation, reason error.
    # r3 has no task id in its metadata and no session: its request id is the task; its
    # request_tags' taskName gives the task type.
    assert rows(
        db,
        "select task_id, task_type, tier_path, escalations, first_status, final_status "
        "from tasks order by 1",
    ) == [
        ("job-1", "triage", ["haiku", "sonnet"], 1, "error", "ok"),
        ("r3", "summarize", ["haiku"], 0, "ok", "ok"),
    ]
    assert rows(db, "select escalation_reason from attempts where attempt = 2") == [("error",)]
    assert rows(db, "select round(sum(cost_usd), 6) from attempts") == [(0.0027,)]


LANGFUSE = {
    "data": [
        {
            "id": "a1",
            "traceId": "tr1",
            "type": "AGENT",
            "name": "researcher",
            "startTime": "2026-03-02T09:00:00.000Z",
            "endTime": "2026-03-02T09:01:00.000Z",
        },
        {
            "id": "g1",
            "traceId": "tr1",
            "type": "GENERATION",
            "name": "chat",
            "parentObservationId": "a1",
            "model": "gpt-4.1-mini-2025-04-14",
            "startTime": "2026-03-02T09:00:01.000Z",
            "endTime": "2026-03-02T09:00:03.000Z",
            "usageDetails": {"input": 1000, "output": 200, "total": 1200},
            "costDetails": {"total": 0.00072},
            "level": "DEFAULT",
            "metadata": {"tierwatch.planner.tier": "mini"},
        },
        {
            "id": "t1",
            "traceId": "tr1",
            "type": "TOOL",
            "name": "search",
            "parentObservationId": "a1",
            "startTime": "2026-03-02T09:00:04.000Z",
        },
        {
            "id": "g2",
            "traceId": "tr1",
            "type": "GENERATION",
            "name": "chat",
            "parentObservationId": "a1",
            "model": "gpt-4.1-mini-2025-04-14",
            "startTime": "2026-03-02T09:00:05.000Z",
            "endTime": "2026-03-02T09:00:06.000Z",
            "usageDetails": {"input": 1500, "output": 100, "total": 1600},
            "costDetails": {"total": 0.00076},
            "level": "DEFAULT",
        },
        {
            "id": "g3",
            "traceId": "tr1",
            "type": "GENERATION",
            "name": "chat",
            "parentObservationId": "a1",
            "model": "gpt-4.1",
            "startTime": "2026-03-02T09:00:07.000Z",
            "endTime": "2026-03-02T09:00:09.000Z",
            "usageDetails": {"input": 1600, "output": 300},
            "level": "ERROR",
            "statusMessage": "context length",
        },
    ],
    "meta": {"page": 1, "limit": 50, "totalItems": 5, "totalPages": 1},
}


def test_langfuse_observations_page(tmp_path):
    path = tmp_path / "observations.json"
    path.write_text(json.dumps(LANGFUSE))
    cfg = config(tmp_path, 'ladder = "openai"\n')
    report = ingest_paths(tmp_path / "t.duckdb", [str(path)], cfg)
    f = report.files[0]
    # 5 observations: 3 generations (g1, g2 on mini in the same agent run: one attempt;
    # g3 on gpt-4.1 = standard: a second attempt), the agent and the tool skipped.
    assert (f.format, f.read, f.loaded, f.rejected) == ("langfuse", 5, 2, 0)
    assert f.skipped_kinds == {
        "agent observations": 1,
        "tool observations": 1,
        "model calls folded into their run's attempt": 1,
    }
    db = tmp_path / "t.duckdb"
    assert rows(
        db,
        "select attempt, tier, input_tokens, output_tokens, round(cost_usd, 5), status "
        "from attempts order by attempt",
    ) == [(1, "mini", 2500, 300, 0.00148, "ok"), (2, "standard", 1600, 300, None, "error")]
    assert rows(db, "select task_id, task_type, planner_tier, tier_path from tasks") == [
        ("tr1/a1", "researcher", "mini", ["mini", "standard"])
    ]


def test_a_langfuse_page_longer_than_the_sniff_on_one_line_is_still_langfuse(tmp_path):
    """An export page of many observations is one line of JSON far longer than what
    detection reads: it is told by its first element, not taken for a v1 record (found by
    bench/bench_records.py, where 20,000 generations loaded as one rejected record)."""
    from tierwatch.ingest.sources import SNIFF_BYTES

    generation = LANGFUSE["data"][1]
    data = [LANGFUSE["data"][0]] + [
        {**generation, "id": f"g{i}"} for i in range(SNIFF_BYTES // 300 + 10)
    ]
    text = json.dumps({"data": data, "meta": {"page": 1}})
    assert len(text) > SNIFF_BYTES and "\n" not in text
    path = tmp_path / "observations.json"
    path.write_text(text)
    report = ingest_paths(
        tmp_path / "t.duckdb", [str(path)], config(tmp_path, 'ladder = "openai"\n')
    )
    f = report.files[0]
    # the agent observation is skipped; every generation is a model call of the one run on
    # one tier: one attempt
    assert (f.format, f.read, f.loaded, f.rejected) == ("langfuse", len(data), 1, 0)


LITELLM_FALLBACK = textwrap.dedent(
    """
    import json, os, sys
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"  # offline: the wheel's own price map
    import litellm
    from litellm import Router
    from litellm.integrations.custom_logger import CustomLogger

    out = open(sys.argv[1], "w")

    class Payloads(CustomLogger):
        # LiteLLM's StandardLoggingPayload leaves out the Router's fallback facts; a logger
        # that wants them copies them from the call's metadata, as this one does
        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            payload = dict(kwargs["standard_logging_object"])
            meta = (kwargs.get("litellm_params") or {}).get("metadata") or {}
            payload["metadata"] = {
                **(payload.get("metadata") or {}),
                **{k: meta[k] for k in ("attempted_fallbacks", "original_model_group")
                   if k in meta},
            }
            out.write(json.dumps(payload, default=str) + "\\n")
            out.flush()

    litellm.callbacks = [Payloads()]
    router = Router(
        model_list=[
            {"model_name": "haiku", "litellm_params": {
                "model": "anthropic/claude-3-5-haiku-20241022", "api_key": "x",
                "mock_response": "a"}},
            {"model_name": "sonnet", "litellm_params": {
                "model": "anthropic/claude-sonnet-4-5", "api_key": "x",
                "mock_response": "b"}},
        ],
        fallbacks=[{"haiku": ["sonnet"]}],
        num_retries=0,
    )
    # f1 asks haiku, which fails (LiteLLM's own test switch), and the Router falls back to
    # sonnet; f2 asks haiku and gets it
    router.completion(model="haiku", messages=[{"role": "user", "content": "go"}],
                      mock_testing_fallbacks=True,
                      metadata={"spend_logs_metadata": {"task_id": "f1", "task_type": "x"}})
    router.completion(model="haiku", messages=[{"role": "user", "content": "go"}],
                      metadata={"spend_logs_metadata": {"task_id": "f2", "task_type": "x"}})
    import time; time.sleep(1.5)
    """
)


def test_a_litellm_router_fallback_keeps_the_tier_asked_for(tmp_path):
    """A real Router with fallbacks, offline: the answer came from sonnet, but the caller
    asked for haiku, and haiku is the planner's tier (original_model_group), not sonnet."""
    pytest.importorskip("litellm")
    out = run_litellm(tmp_path, LITELLM_FALLBACK)
    payloads = [json.loads(line) for line in out.read_text().splitlines()]
    # what LiteLLM itself says: f1 answered by the sonnet group after one fallback from haiku
    first = next(p for p in payloads if p["metadata"]["spend_logs_metadata"]["task_id"] == "f1")
    assert first["model_group"] == "sonnet"
    assert first["metadata"]["original_model_group"] == "haiku"
    assert first["metadata"]["attempted_fallbacks"] == 1
    report = ingest_paths(tmp_path / "t.duckdb", [str(out)], config(tmp_path))
    assert report.files[0].loaded == 2
    assert rows(
        tmp_path / "t.duckdb",
        "select task_id, planner_tier, tier_path from tasks order by 1",
    ) == [("f1", "haiku", ["sonnet"]), ("f2", "haiku", ["haiku"])]
    # haiku's failed call of f1 is in no record: one answer stands for one failed call
    assert report.files[0].fallbacks_not_logged == (1, 1)


LITELLM_EVERY_FALLBACK_FAILS = textwrap.dedent(
    """
    import json, os, sys
    from pathlib import Path
    os.environ["LITELLM_LOCAL_MODEL_COST_MAP"] = "True"
    import litellm
    from litellm import Router
    from litellm.integrations.custom_logger import CustomLogger

    folder = Path(sys.argv[1])
    folder.mkdir()

    from litellm.integrations.s3 import get_s3_object_key
    from litellm.utils import get_logging_id

    class OneObjectPerCall(CustomLogger):
        # as LiteLLM's S3 logger does: every call, answered or failed, an object of its
        # own under the key LiteLLM's own code gives it (DAY/time-HH-MM-SS-us_ID.json)
        def write(self, kwargs, start_time):
            payload = kwargs["standard_logging_object"]
            key = get_s3_object_key("", "", start_time, get_logging_id(start_time, payload))
            (folder / key).parent.mkdir(parents=True, exist_ok=True)
            (folder / key).write_text(json.dumps(payload, default=str))

        def log_success_event(self, kwargs, response_obj, start_time, end_time):
            self.write(kwargs, start_time)

        def log_failure_event(self, kwargs, response_obj, start_time, end_time):
            self.write(kwargs, start_time)

    litellm.callbacks = [OneObjectPerCall()]

    def router(sonnet_answer):
        return Router(
            model_list=[
                {"model_name": "haiku", "litellm_params": {
                    "model": "anthropic/claude-3-5-haiku-20241022", "api_key": "x",
                    "mock_response": Exception("haiku is down")}},
                {"model_name": "sonnet", "litellm_params": {
                    "model": "anthropic/claude-sonnet-4-5", "api_key": "x",
                    "mock_response": sonnet_answer}},
            ],
            fallbacks=[{"haiku": ["sonnet"]}],
            num_retries=0,
        )

    ask = dict(model="haiku", messages=[{"role": "user", "content": "go"}])
    # a1: haiku fails and so does its fallback: the Router raises to the caller
    try:
        router(Exception("sonnet is down too")).completion(
            **ask, metadata={"spend_logs_metadata": {"task_id": "a1", "task_type": "triage"}})
        raise SystemExit("the Router was meant to fail")
    except litellm.InternalServerError:
        pass
    import time; time.sleep(0.05)
    # a2: haiku fails and sonnet answers
    router("triaged").completion(
        **ask, metadata={"spend_logs_metadata": {"task_id": "a2", "task_type": "triage"}})
    time.sleep(1.5)
    """
)


def test_every_litellm_fallback_failing_one_file_per_call(tmp_path):
    """A real Router whose fallbacks all fail, logged as LiteLLM's S3/GCS loggers log: one
    payload per call, in a file of its own. Each failed deployment is an errored attempt;
    a task's attempts are numbered on from file to file (not attempt 1 in every file, which
    made the second call of a task a conflict). LiteLLM's payload of a fallback names only
    the group it went to, so that is the call's own planner tier; the task's planner tier is
    its first call's, the group the request asked for."""
    pytest.importorskip("litellm")
    folder = run_litellm(tmp_path, LITELLM_EVERY_FALLBACK_FAILS)
    files = sorted(folder.rglob("*.json"))
    assert len(files) == 4 and all(p.parent.parent == folder for p in files)  # DAY/...
    payloads = [json.loads(p.read_text()) for p in files]
    # what LiteLLM itself logged: four calls, three failed, one trace id per request
    assert [(p["model_group"], p["status"]) for p in payloads] == [
        ("haiku", "failure"),
        ("sonnet", "failure"),
        ("haiku", "failure"),
        ("sonnet", "success"),
    ]
    assert payloads[0]["trace_id"] == payloads[1]["trace_id"] != payloads[2]["trace_id"]
    assert all("original_model_group" not in (p["metadata"] or {}) for p in payloads)

    db = tmp_path / "t.duckdb"
    report = ingest_paths(db, [str(folder)], config(tmp_path))
    assert [(f.read, f.loaded, f.rejected) for f in report.files] == [(1, 1, 0)] * 4
    assert rows(
        db,
        "select task_id, attempt, tier, planner_tier, status, escalation_reason, "
        "input_tokens, extra->>'litellm.error_class' from attempts order by 1, 2",
    ) == [
        ("a1", 1, "haiku", "haiku", "error", None, 0, "InternalServerError"),
        ("a1", 2, "sonnet", "sonnet", "error", "error", 0, "InternalServerError"),
        ("a2", 1, "haiku", "haiku", "error", None, 0, "InternalServerError"),
        ("a2", 2, "sonnet", "sonnet", "ok", "error", payloads[3]["prompt_tokens"], None),
    ]
    assert rows(
        db, "select task_id, planner_tier, tier_path, escalations, failed from tasks order by 1"
    ) == [
        ("a1", "haiku", ["haiku", "sonnet"], 1, True),
        ("a2", "haiku", ["haiku", "sonnet"], 1, False),
    ]
    assert rows(db, "select sum(cost_usd) from attempts") == [
        (pytest.approx(payloads[3]["response_cost"]),)
    ]

    # the same calls again, as the folder or as one file (a logger writing JSONL): the
    # calls keep their numbers, so every one is a duplicate
    again = ingest_paths(db, [str(folder)], config(tmp_path))
    assert [(f.loaded, f.duplicates) for f in again.files] == [(0, 1)] * 4
    joined = tmp_path / "joined.jsonl"
    joined.write_text("".join(p.read_text() + "\n" for p in files))
    one = ingest_paths(db, [str(joined)], config(tmp_path)).files[0]
    assert (one.read, one.loaded, one.duplicates, one.rejected) == (4, 0, 4, 0)


def _spend_row(request_id, start, model, group, status, task, fallbacks):
    meta = {"spend_logs_metadata": {"task_id": task}, "original_model_group": "haiku"}
    if fallbacks is not None:
        meta["attempted_fallbacks"] = fallbacks
    return {
        "request_id": request_id,
        "call_type": "completion",
        "startTime": f"2026-03-01 {start}",
        "model": model,
        "model_group": group,
        "spend": "0.001",
        "prompt_tokens": "100",
        "completion_tokens": "10",
        "status": status,
        "metadata": json.dumps(meta),
        "request_tags": '["taskName:triage"]',
    }


def test_spend_logs_answers_after_fallbacks_whose_failures_are_not_logged(tmp_path):
    """LiteLLM_SpendLogs keeps one row per request, the call that answered, with
    `metadata.attempted_fallbacks`; the failed calls before it are in no row, so the task
    looks right first time on the fallback's tier. Ingest says how many, and what to log."""
    path = tmp_path / "spend_logs.csv"
    rows_ = [
        # j1: answered by sonnet after haiku failed, the failure in no row: counted (1, 1)
        _spend_row("r1", "10:00:00", "claude-sonnet-4-5", "sonnet", "success", "j1", 1),
        # j2: answered by opus after two groups failed, none logged: counted (1, 2)
        _spend_row("r2", "11:00:00", "claude-opus-4-1", "opus", "success", "j2", 2),
        # j3: haiku's failure is logged as a row of its own before the answer: not counted
        _spend_row("r3", "12:00:00", "claude-3-5-haiku-20241022", "haiku", "failure", "j3", None),
        _spend_row("r4", "12:00:05", "claude-sonnet-4-5", "sonnet", "success", "j3", 1),
        # j4: no fallback at all
        _spend_row("r5", "13:00:00", "claude-3-5-haiku-20241022", "haiku", "success", "j4", 0),
    ]
    with path.open("w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows_[0]))
        w.writeheader()
        w.writerows(rows_)
    report = ingest_paths(tmp_path / "t.duckdb", [str(path)], config(tmp_path))
    assert (report.files[0].loaded, report.files[0].fallbacks_not_logged) == (5, (2, 3))

    run = subprocess.run(
        [sys.executable, "-m", "tierwatch", "ingest", str(path), "--db", "cli.duckdb"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stderr
    out = run.stdout
    assert "2 calls were answered after Router fallbacks whose 3 failed calls" in out
    assert "LiteLLM's S3 or GCS logger" in out


# --- read a line at a time --------------------------------------------------------------

SPEND_COLUMNS = (
    "request_id startTime endTime model model_group spend prompt_tokens completion_tokens "
    "status metadata request_tags"
).split()


def _spend_json(row: tuple) -> dict:
    """A SPEND_LOGS row as the /spend/logs API gives it: metadata and tags as JSON."""
    record = dict(zip(SPEND_COLUMNS, row, strict=True))
    record["metadata"] = json.loads(record["metadata"])
    record["request_tags"] = json.loads(record["request_tags"])
    return record


def test_litellm_jsonl_is_read_a_line_at_a_time_and_its_bad_lines_quarantined(tmp_path):
    r1, r2, r3 = (_spend_json(r) for r in SPEND_LOGS)
    r2["response"] = "first\u2028second"  # a line separator inside a string is valid JSON
    path = tmp_path / "spend.jsonl"
    path.write_bytes(
        b"\xef\xbb\xbf\n"  # line 1: a byte order mark and nothing else
        + json.dumps(r1).encode()
        + b"\n"  # line 2
        + b'{"request_id": "r9", "spend"\n'  # line 3: cut off
        + json.dumps(r2, ensure_ascii=False).encode()  # line 4: U+2028 as it is
        + b"\n\n"  # line 5: blank
        + json.dumps(r3).encode()  # line 6, with no newline at the end
    )
    f = ingest_paths(tmp_path / "t.duckdb", [str(path)], config(tmp_path)).files[0]
    # the three calls are job-1's two attempts and r3's one; line 3 is the one reject
    assert (f.format, f.read, f.loaded, f.rejected) == ("litellm", 4, 3, 1)
    assert [(r.where, r.reason.split(" (")[0]) for r in f.rejects] == [("line 3", "not valid JSON")]
    assert rows(
        tmp_path / "t.duckdb", "select task_id, tier_path, escalations from tasks order by 1"
    ) == [("job-1", ["haiku", "sonnet"], 1), ("r3", ["haiku"], 0)]


def test_litellm_jsonl_whose_first_line_is_broken_keeps_the_rest(tmp_path):
    path = tmp_path / "spend.jsonl"
    path.write_text(
        '{"request_id": "r0", "spend": 0.1,\n'
        + "\n".join(json.dumps(_spend_json(r)) for r in SPEND_LOGS)
        + "\n"
    )
    f = ingest_paths(tmp_path / "t.duckdb", [str(path)], config(tmp_path)).files[0]
    assert (f.format, f.loaded, f.rejected) == ("litellm", 3, 1)
    assert [r.where for r in f.rejects] == ["line 1"]


def test_a_spend_logs_page_on_one_line_is_one_document(tmp_path):
    path = tmp_path / "page.json"  # an API page saved as it came: no newline at its end
    path.write_text(json.dumps({"data": [_spend_json(r) for r in SPEND_LOGS], "total": 3}))
    f = ingest_paths(tmp_path / "t.duckdb", [str(path)], config(tmp_path)).files[0]
    assert (f.format, f.read, f.loaded, f.rejected) == ("litellm", 3, 3, 0)


def test_a_litellm_line_past_max_record_mb_refuses_its_file(tmp_path):
    from test_hostile_ingest import refused, tierwatch

    (tmp_path / "tierwatch.toml").write_text("max_record_mb = 1\n")
    big = {**_spend_json(SPEND_LOGS[2]), "response": "n" * 1_100_000}
    lines = [json.dumps(_spend_json(SPEND_LOGS[0])), json.dumps(big)]
    (tmp_path / "spend.jsonl").write_text("\n".join(lines) + "\n")
    run = tierwatch("ingest", "spend.jsonl", "--config", "tierwatch.toml", cwd=tmp_path)
    refused(run, "spend.jsonl: line 2 is longer than 1 MB", "max_record_mb")
    with (tmp_path / "spend.csv").open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow([*SPEND_COLUMNS, "response"])
        w.writerow([*SPEND_LOGS[0], ""])
        w.writerow([*SPEND_LOGS[2], "n" * 1_100_000])
    run = tierwatch("ingest", "spend.csv", "--config", "tierwatch.toml", cwd=tmp_path)
    refused(run, "spend.csv: line 3 is longer than 1 MB")
    assert not (tmp_path / "tierwatch.duckdb").exists() or rows(
        tmp_path / "tierwatch.duckdb", "select count(*) from attempts"
    ) == [(0,)]


# --- Langfuse scores ----------------------------------------------------------------------


def _obs(oid, trace, kind, at, parent=None, model=None, **more):
    o = {"id": oid, "traceId": trace, "type": kind, "name": "chat", "startTime": at}
    if parent:
        o["parentObservationId"] = parent
    if model:
        o.update(model=model, usageDetails={"input": 100, "output": 10}, endTime=at)
    return {**o, **more}


def _score(sid, trace, name, observation=None, kind="BOOLEAN", value=0.0, label=None, at=None):
    """A score as Langfuse's own API types write it (the SDK's generated models)."""
    from langfuse.api.commons.types import score as types

    made = dt.datetime(2026, 3, 2, 9, 30, tzinfo=dt.UTC)
    cls = {
        "BOOLEAN": types.Score_Boolean,
        "CATEGORICAL": types.Score_Categorical,
        "NUMERIC": types.Score_Numeric,
    }[kind]
    fields = {"string_value": label} if label is not None else {}
    score = cls(
        id=sid,
        trace_id=trace,
        observation_id=observation,
        name=name,
        source="EVAL",
        timestamp=at or made,
        created_at=made,
        updated_at=made,
        environment="default",
        value=value,
        **fields,
    )
    return json.loads(score.json())


def test_langfuse_scores_and_verdicts_of_traces_exported_with_them(tmp_path):
    pytest.importorskip("langfuse")
    t = "2026-03-02T09:00:0"
    mini, full = "gpt-4.1-mini-2025-04-14", "gpt-4.1"
    tr1 = {  # /api/public/traces/tr1: the trace with its observations and scores
        "id": "tr1",
        "observations": [
            _obs("a1", "tr1", "AGENT", t + "0Z"),
            _obs("g1", "tr1", "GENERATION", t + "1Z", "a1", mini),
            _obs("g2", "tr1", "GENERATION", t + "5Z", "a1", full),
        ],
        "scores": [
            # g1 failed the check, but the task went on to g2: no downstream failure
            _score("s1", "tr1", "correctness", "g1", label="False"),
            # a number is no pass or fail
            _score("s2", "tr1", "helpfulness", kind="NUMERIC", value=0.2),
            # the trace's output (g2, its last call) judged wrong an hour later
            _score(
                "s3",
                "tr1",
                "correctness",
                kind="CATEGORICAL",
                label="incorrect",
                at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC),
            ),
        ],
    }
    tr2 = {
        "id": "tr2",
        "observations": [
            _obs("b1", "tr2", "AGENT", t + "0Z"),
            _obs("h1", "tr2", "GENERATION", t + "2Z", "b1", mini),
        ],
        # on the agent run, which ends with h1: passed
        "scores": [_score("s4", "tr2", "correctness", "b1", value=1.0, label="True")],
    }
    orphan = _score("s5", "tr9", "correctness", "zz", label="False")
    tr3 = {  # the fleet's own reviewer rejected k1 (a verdict in its metadata): k2 retried
        "id": "tr3",
        "observations": [
            _obs("c1", "tr3", "AGENT", t + "0Z"),
            _obs("k1", "tr3", "GENERATION", t + "1Z", "c1", mini, metadata={"verdict": "reject"}),
            _obs("k2", "tr3", "GENERATION", t + "4Z", "c1", full),
        ],
    }
    path = tmp_path / "traces.jsonl"
    path.write_text("\n".join(json.dumps(r) for r in (tr1, tr2, orphan, tr3)) + "\n")
    cfg = config(tmp_path, 'ladder = "openai"\n')
    f = ingest_paths(tmp_path / "t.duckdb", [str(path)], cfg).files[0]
    # attempts: g1, g2 (one run, two tiers), h1, k1, k2; one downstream failure (s3);
    # skipped: 3 agent runs, s1, s2, s4; rejected: s5
    assert (f.format, f.read, f.loaded, f.rejected, f.skipped) == ("langfuse", 13, 6, 1, 6)
    assert f.skipped_kinds["scores that passed"] == 1
    assert f.skipped_kinds["failing scores of calls their task went on from"] == 1
    # the scores' downstream failure counts as the file saying what failed downstream
    assert f.missing == [
        "failure by planner tier needs tierwatch.planner.tier",
        "calibration needs tierwatch.confidence",
    ]
    (reject,) = f.rejects
    assert reject.where == "line 3"
    assert "score s5 (correctness) is on observation zz of trace tr9" in reject.reason
    db = tmp_path / "t.duckdb"
    assert rows(
        db,
        "select task_id, tier_path, first_status, downstream_failure, "
        "strftime(downstream_detected_at, '%H:%M') from tasks order by 1",
    ) == [
        ("tr1/a1", ["mini", "standard"], "ok", True, "10:00"),
        ("tr2/b1", ["mini"], "ok", False, None),
        ("tr3/c1", ["mini", "standard"], "failed", False, None),
    ]
    assert rows(db, "select detected_by from downstream_failures") == [
        ("langfuse score correctness",)
    ]
    assert rows(
        db, "select escalation_reason from attempts where task_id = 'tr3/c1' and attempt = 2"
    ) == [("reviewer_reject",)]
    # loaded again: every record a duplicate, the downstream failure too
    again = ingest_paths(db, [str(path)], cfg).files[0]
    assert (again.loaded, again.duplicates, again.rejected) == (0, 6, 1)
    assert rows(db, "select count(*) from downstream_failures") == [(1,)]


def test_a_langfuse_scores_export_loaded_after_its_observations(tmp_path):
    """Langfuse exports scores apart from observations (the UI's scores export, the API's
    /scores): loaded after the observations, each score finds the stored call it judges."""
    pytest.importorskip("langfuse")
    t = "2026-03-02T09:00:0"
    mini, full = "gpt-4.1-mini-2025-04-14", "gpt-4.1"
    observations = [
        _obs("a1", "tr1", "AGENT", t + "0Z"),
        _obs("g1", "tr1", "GENERATION", t + "1Z", "a1", mini),
        _obs("g2", "tr1", "GENERATION", t + "5Z", "a1", full),
        _obs("h1", "tr2", "GENERATION", t + "2Z", model=mini),  # no agent: the trace's task
        _obs("c1", "tr3", "AGENT", t + "0Z"),
        _obs("k1", "tr3", "GENERATION", t + "3Z", "c1", mini),
    ]
    scores = [
        # g1's output failed, but the task went on to g2: no downstream failure
        _score("s1", "tr1", "correctness", "g1", label="False"),
        # the trace ended with g2: judged wrong at 10:00, a downstream failure of tr1/a1
        _score(
            "s2",
            "tr1",
            "correctness",
            kind="CATEGORICAL",
            label="incorrect",
            at=dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC),
        ),
        _score("s3", "tr2", "correctness", "h1", value=1.0, label="True"),  # passed
        # on the agent run c1, which ended with k1: a downstream failure of tr3/c1 at 09:30
        _score("s4", "tr3", "correctness", "c1", label="False"),
        _score("s5", "tr9", "correctness", "zz", label="False"),  # no such call anywhere
        _score("s6", "tr2", "helpfulness", "h1", kind="NUMERIC", value=0.4),  # no verdict
    ]
    folder = tmp_path / "export"
    folder.mkdir()
    (folder / "1-observations.jsonl").write_text(
        "".join(json.dumps(o) + "\n" for o in observations)
    )
    (folder / "2-scores.jsonl").write_text("".join(json.dumps(s) + "\n" for s in scores))
    cfg = config(tmp_path, 'ladder = "openai"\n')

    def check(db, f):
        assert (f.format, f.read, f.loaded, f.rejected, f.skipped) == ("langfuse", 6, 2, 1, 3)
        assert f.downstream_failures == 2
        assert f.skipped_kinds == {
            "failing scores of calls their task went on from": 1,
            "scores that passed": 1,
            "scores that are no pass or fail verdict (numeric, or another label)": 1,
        }
        (reject,) = f.rejects
        assert reject.where == "line 5"
        assert reject.reason.startswith(
            "score s5 (correctness) is on observation zz of trace tr9, whose model calls "
            "neither this file nor the store holds; load the observations it scores first"
        )
        assert rows(
            db,
            "select task_id, downstream_failure, strftime(downstream_detected_at, '%H:%M') "
            "from tasks order by 1",
        ) == [("tr1/a1", True, "10:00"), ("tr2", False, None), ("tr3/c1", True, "09:30")]

    # one file after the other, as two commands
    db = tmp_path / "apart.duckdb"
    ingest_paths(db, [str(folder / "1-observations.jsonl")], cfg)
    check(db, ingest_paths(db, [str(folder / "2-scores.jsonl")], cfg).files[0])
    again = ingest_paths(db, [str(folder / "2-scores.jsonl")], cfg).files[0]
    assert (again.loaded, again.duplicates, again.rejected) == (0, 2, 1)
    assert rows(db, "select count(*) from downstream_failures") == [(2,)]
    # the folder in one command: both small files go in one pass, the scores after
    together = tmp_path / "together.duckdb"
    scores_file = ingest_paths(together, [str(folder)], cfg).files[1]
    check(together, scores_file)
    # the command line names what the scores gave
    from test_hostile_ingest import tierwatch

    run = tierwatch(
        "ingest",
        "export/2-scores.jsonl",
        "--db",
        "apart.duckdb",
        "--config",
        "tierwatch.toml",
        cwd=tmp_path,
    )
    assert "Langfuse export: 0 attempts, 2 downstream failures" in run.stdout
