"""`tierwatch collect`, the live OTLP/HTTP receiver: real server, real clients.

The fleet is tests/otel_fleet.py's simulated planner -> executor -> reviewer fleet, sent by
the real OpenTelemetry SDK (BatchSpanProcessor + OTLPSpanExporter over HTTP) from a
process of its own (tests/otel_send.py). What the store must hold is worked out from what
was sent: the spans themselves, and the same spans loaded from a file by `tierwatch ingest`
(whose mapping tests/test_sources_otlp.py checks against the simulation).
"""

from __future__ import annotations

import contextlib
import gzip
import json
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import langfuse_fleet
import otel_fleet
import pytest
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from test_browser import free_port, wait_until_up
from test_sources_otlp import rows

HERE = Path(__file__).resolve().parent
TIERWATCH = Path(sys.executable).parent / "tierwatch"
FAST = ("--batch-seconds", "0.2", "--settle", "0.5")


@contextlib.contextmanager
def collecting(db: Path, *extra: str, port: int | None = None) -> Iterator[dict]:
    """`tierwatch collect` on a free 127.0.0.1 port; stopped with SIGTERM on leaving. The
    dict has its url, process, and (after leaving) its log."""
    port = port or free_port()
    log = db.parent / f"collect-{port}-{time.monotonic_ns()}.log"
    out = open(log, "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(TIERWATCH), "collect", "--db", str(db), "--port", str(port), *extra],
        stdout=out,
        stderr=subprocess.STDOUT,
        cwd=db.parent,
    )
    info = {"url": f"http://127.0.0.1:{port}", "proc": proc, "port": port, "log": ""}
    try:
        wait_until_up(f"{info['url']}/health", proc, out, "collect")
        yield info
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        out.close()
        info["log"] = log.read_text()


def drained(url: str, timeout: float = 30) -> None:
    """Until the receiver has written everything it acknowledged and derived every trace
    (the last one `--settle` seconds after its root)."""
    deadline = time.monotonic() + timeout
    while True:
        with urllib.request.urlopen(f"{url}/health") as r:
            h = json.loads(r.read())
        if h["queued_spans"] == 0 and h["waiting_traces"] == 0:
            return
        assert time.monotonic() < deadline, h
        time.sleep(0.1)


def post(url: str, body: bytes, media="application/x-protobuf", **headers):
    """(status, headers, body) of a POST to /v1/traces; header names with _ for -."""
    headers = {k.replace("_", "-"): v for k, v in headers.items()}
    req = urllib.request.Request(
        f"{url}/v1/traces", data=body, method="POST", headers={"Content-Type": media, **headers}
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
    except urllib.error.HTTPError as e:
        return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def send_fleet(url: str, tmp_path: Path, *args: str, timeout=300) -> dict:
    """Run the fleet in its own process, exporting to `url`; its truth, and where it wrote
    all its spans (`pb`) and the acknowledged ones (`acked`)."""
    pb, acked = tmp_path / f"fleet-{time.monotonic_ns()}.pb", tmp_path / "acked.txt"
    done = subprocess.run(
        [
            sys.executable,
            str(HERE / "otel_send.py"),
            f"{url}/v1/traces",
            "--pb",
            str(pb),
            "--acked",
            str(acked),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    truth = json.loads(done.stdout.strip().splitlines()[-1])
    truth["pb"], truth["acked"] = pb, acked
    return truth


def report_json(db: Path, name: str) -> dict:
    done = subprocess.run(
        [str(TIERWATCH), "report", name, "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def rounded(value):
    """A report with its floats to 9 significant digits: sums over the same numbers in
    another order differ in the last bits."""
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {k: rounded(v) for k, v in value.items()}
    if isinstance(value, list):
        return [rounded(v) for v in value]
    return value


def otlp_json(request: ExportTraceServiceRequest) -> bytes:
    """A request as an OTLP/JSON body, ids in hex."""
    return json.dumps(otel_fleet.otlp_json(request)).encode()


def span_ids(request: ExportTraceServiceRequest) -> set[tuple[str, str]]:
    return {
        (s.trace_id.hex(), s.span_id.hex())
        for rs in request.resource_spans
        for ss in rs.scope_spans
        for s in ss.spans
    }


def stored_spans(db: Path) -> list[tuple[str, str]]:
    return rows(db, "select trace_id, span_id from collected_spans")


# --- the real SDK, in a process of its own -----------------------------------------------


def test_sdk_fleet_lands_exactly_and_its_reports_equal_the_same_spans_from_a_file(tmp_path):
    db = tmp_path / "live.duckdb"
    with collecting(db, *FAST) as c:
        truth = send_fleet(c["url"], tmp_path, "--jobs", "12", "--batch", "64")
    assert c["proc"].returncode == 0, c["log"]
    # SIGTERM: a summary line, nothing left waiting (every trace's root span came)
    assert "stopped after" in c["log"] and "; nothing waits" in c["log"], c["log"]
    assert truth["exports"]["failure"] == 0

    sent = span_ids(ExportTraceServiceRequest.FromString(truth["pb"].read_bytes()))
    stored = stored_spans(db)
    assert len(stored) == len(set(stored)) == len(sent) == truth["spans"]
    assert set(stored) == sent
    assert rows(db, "select count(*) from collected_spans where derived_in is null") == [(0,)]

    # the same spans from a file, by tierwatch ingest, into a store of their own
    file_db = tmp_path / "file.duckdb"
    done = subprocess.run(
        [str(TIERWATCH), "ingest", str(truth["pb"]), "--db", str(file_db)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    for name in ("summary", "tiers", "escalations", "costs", "calibration"):
        assert rounded(report_json(db, name)) == rounded(report_json(file_db, name)), name
    # and loaded into the live store, the file adds nothing: every attempt is a duplicate
    again = subprocess.run(
        [str(TIERWATCH), "ingest", str(truth["pb"]), "--db", str(db), "--json"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert again.returncode == 0, again.stderr
    (f,) = json.loads(again.stdout)["files"]
    assert f["loaded"] == 0 and f["duplicates"] == f["read"] - f["skipped"] > 0

    # and what the simulation did (one review per executor attempt, one plan per job)
    assert rows(db, "select role, count(*) from attempts group by role order by role") == [
        ("executor", truth["executor_attempts"]),
        ("planner", truth["planner_calls"]),
        ("reviewer", truth["reviewer_calls"]),
    ]
    assert rows(db, "select count(*), count(*) filter (where escalations > 0) from tasks") == [
        (truth["tasks"], truth["escalated_tasks"])
    ]
    # the ledger: every span counted once over the batches, each batch's identity holding
    ledger = rows(
        db,
        "select sum(read), sum(loaded + duplicates + rejected + skipped), "
        "count(*) filter (where read <> loaded + duplicates + rejected + skipped) "
        "from ingested_files where format = 'otlp-http'",
    )
    assert ledger == [(truth["spans"], truth["spans"], 0)]
    # `tierwatch files` sums the batches per hour (a busy receiver writes one a second)
    files = subprocess.run(
        [str(TIERWATCH), "files", "--db", str(db)], capture_output=True, text=True, timeout=60
    )
    assert files.returncode == 0, files.stderr
    hours = [line for line in files.stdout.splitlines() if "batches: read" in line]
    assert hours and all(f"collect 127.0.0.1:{c['port']}, " in line for line in hours)
    assert (
        sum(int(line.split("batches: read ")[1].split(",")[0]) for line in hours)
        == (truth["spans"])
    )
    each = subprocess.run(
        [str(TIERWATCH), "files", "--db", str(db), "--batches"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert f"collect 127.0.0.1:{c['port']} batch " in each.stdout


def test_kill_9_mid_stream_loses_nothing_acknowledged_and_counts_nothing_twice(tmp_path):
    db = tmp_path / "killed.duckdb"
    port = free_port()
    sender = subprocess.Popen(
        [
            sys.executable,
            str(HERE / "otel_send.py"),
            f"http://127.0.0.1:{port}/v1/traces",
            "--jobs",
            "40",
            "--batch",
            "32",
            "--pause",
            "0.1",
            "--pb",
            str(tmp_path / "all.pb"),
            "--acked",
            str(tmp_path / "acked.txt"),
            "--timeout",
            "60",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    acked_file = tmp_path / "acked.txt"
    with collecting(db, *FAST, port=port) as c:
        # kill it once some requests were acknowledged and more are on their way
        deadline = time.monotonic() + 60
        while not (acked_file.exists() and len(acked_file.read_text().splitlines()) >= 100):
            assert time.monotonic() < deadline, "nothing was acknowledged"
            time.sleep(0.05)
        c["proc"].send_signal(signal.SIGKILL)
        c["proc"].wait()
        acked_before_kill = set(acked_file.read_text().splitlines())
    time.sleep(0.5)  # the exporter meets a closed port and backs off, as it would for real
    with collecting(db, *FAST, port=port) as c2:
        out, err = sender.communicate(timeout=300)
        assert sender.returncode == 0, err[-3000:]
    assert c2["proc"].returncode == 0, c2["log"]

    acked = {tuple(line.split()) for line in acked_file.read_text().splitlines()}
    stored = stored_spans(db)
    assert len(stored) == len(set(stored)), "a span is stored twice"
    assert acked <= set(stored), f"{len(acked - set(stored))} acknowledged spans were lost"
    assert {tuple(x.split()) for x in acked_before_kill} <= set(stored)
    # the exporter retried what was not acknowledged: everything it made arrived, once
    sent = span_ids(ExportTraceServiceRequest.FromString((tmp_path / "all.pb").read_bytes()))
    assert set(stored) == sent
    truth = json.loads(out.strip().splitlines()[-1])
    assert rows(db, "select count(*) from attempts where role = 'executor'") == [
        (truth["executor_attempts"],)
    ]
    # no attempt counted twice: identities are unique
    assert rows(
        db,
        "select count(*) from (select task_id, role, attempt from attempts "
        "group by all having count(*) > 1)",
    ) == [(0,)]


def test_a_burst_past_the_limit_gets_503_retry_after_and_the_sdk_retries_land_it_all(tmp_path):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace.export import SpanExportResult

    db = tmp_path / "burst.duckdb"
    fleets = [otel_fleet.simulate(jobs=4, seed=s) for s in range(8)]
    with collecting(
        db,
        "--batch-seconds",
        "0.5",
        "--batch-spans",
        "100",
        "--max-waiting",
        "200",
        "--settle",
        "0.5",
    ) as c:
        exporter = OTLPSpanExporter(endpoint=f"{c['url']}/v1/traces", timeout=120)
        results = []

        def export(fleet) -> None:
            results.append(exporter.export(fleet.spans))

        # 8 exporters at once, each a request of one fleet's spans (about 100): past the
        # 200 waiting spans the receiver takes, so most are told to come back
        threads = [threading.Thread(target=export, args=(f,)) for f in fleets]
        for t in threads:
            t.start()
        status, headers, _ = post(c["url"], fleets[0].request().SerializeToString())
        for t in threads:
            t.join()
        with urllib.request.urlopen(f"{c['url']}/health") as r:
            health = json.loads(r.read())
    assert results == [SpanExportResult.SUCCESS] * len(fleets)
    assert health["refused_busy"] > 0, health
    assert "asked to retry later" in c["log"]
    stored = stored_spans(db)
    want = set().union(*(span_ids(f.request()) for f in fleets))
    assert len(stored) == len(set(stored)) and set(stored) == want


# --- bodies posted directly ----------------------------------------------------------------


def test_posted_bodies_json_gzip_duplicates_garbage_and_partial_success(tmp_path):
    db = tmp_path / "posted.duckdb"
    a, b, g = (otel_fleet.simulate(jobs=2, seed=s).request() for s in (1, 2, 3))
    with collecting(db, *FAST, "--max-body-mb", "1") as c:
        url = c["url"]
        # protobuf, then the same request again: acknowledged both times, stored once
        for _ in range(2):
            status, headers, body = post(url, a.SerializeToString())
            assert status == 200 and headers["content-type"] == "application/x-protobuf"
            assert not ExportTraceServiceResponse.FromString(body).HasField("partial_success")
        # OTLP/JSON, hex ids
        status, headers, body = post(url, otlp_json(b), media="application/json")
        assert (status, json.loads(body)) == (200, {})
        # gzip, of protobuf and of JSON
        j = otel_fleet.simulate(jobs=1, seed=31).request()
        status, _, body = post(
            url, gzip.compress(otlp_json(j)), media="application/json", Content_Encoding="gzip"
        )
        assert (status, json.loads(body)) == (200, {})
        status, _, _ = post(
            url, gzip.compress(g.SerializeToString()), **{"Content-Encoding": "gzip"}
        )
        assert status == 200

        # refused, each with a google.rpc.Status saying why
        status, _, body = post(url, b"\x0a\xff\xff\xff\xff\x0f garbage")
        assert status == 400
        assert "not an OTLP protobuf" in status_pb2.Status.FromString(body).message
        truncated = gzip.compress(a.SerializeToString())[:-12]
        status, _, body = post(url, truncated, **{"Content-Encoding": "gzip"})
        assert status == 400 and "gzip" in status_pb2.Status.FromString(body).message
        status, _, body = post(url, b'{"hello": "world"}', media="application/json")
        assert status == 400 and "resourceSpans" in json.loads(body)["message"]
        status, _, body = post(url, b"{not json", media="application/json")
        assert status == 400 and "not JSON" in json.loads(body)["message"]
        status, _, _ = post(url, b"x", media="text/plain")
        assert status == 415
        status, _, _ = post(url, b"x" * (1 << 21))  # 2 MiB against a 1 MiB cap
        assert status == 413
        bomb = gzip.compress(b"\0" * (8 << 20))  # 8 KiB that inflate to 8 MiB
        status, _, body = post(url, bomb, **{"Content-Encoding": "gzip"})
        assert status == 413 and "decompresses" in status_pb2.Status.FromString(body).message

        # good and bad spans in one request: the good land, partial_success names the bad
        mixed = otel_fleet.simulate(jobs=1, seed=9).request()
        spans = mixed.resource_spans[0].scope_spans[0].spans
        spans[0].span_id = b""
        spans[1].trace_id = b"\0" * 16
        status, _, body = post(url, mixed.SerializeToString())
        partial = ExportTraceServiceResponse.FromString(body).partial_success
        assert status == 200 and partial.rejected_spans == 2
        assert "without a valid trace or span id" in partial.error_message
        assert "tierwatch rejects" in partial.error_message
        good_mixed = span_ids(mixed) - {
            (s.trace_id.hex(), s.span_id.hex()) for s in list(spans)[:2]
        }
    assert c["proc"].returncode == 0
    stored = stored_spans(db)
    assert len(stored) == len(set(stored))
    assert set(stored) == span_ids(a) | span_ids(b) | span_ids(g) | span_ids(j) | good_mixed
    n_a = len(span_ids(a))
    # the second copy of `a` is counted as duplicates, span for span
    dup_rows = rows(db, "select duplicates from ingested_files where duplicates > 0")
    assert sum(d for (d,) in dup_rows) == n_a
    rejects = subprocess.run(
        [str(TIERWATCH), "rejects", "--db", str(db), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    shown = json.loads(rejects.stdout)
    assert sum("no valid trace or span id" in r["reason"] for r in shown) == 2


def test_a_token_is_required_when_set(tmp_path):
    db = tmp_path / "token.duckdb"
    body = otel_fleet.simulate(jobs=1, seed=5).request().SerializeToString()
    with collecting(db, *FAST, "--token", "s3cret") as c:
        assert post(c["url"], body)[0] == 401
        assert post(c["url"], body, Authorization="Bearer wrong")[0] == 401
        assert post(c["url"], body, Authorization="Bearer s3cret")[0] == 200
        # the SDK's exporter sends it as OTEL_EXPORTER_OTLP_HEADERS says
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.trace.export import SpanExportResult

        env = {"OTEL_EXPORTER_OTLP_HEADERS": "Authorization=Bearer s3cret"}
        with pytest.MonkeyPatch.context() as mp:
            for k, v in env.items():
                mp.setenv(k, v)
            exporter = OTLPSpanExporter(endpoint=f"{c['url']}/v1/traces")
        fleet = otel_fleet.simulate(jobs=1, seed=6)
        assert exporter.export(fleet.spans) is SpanExportResult.SUCCESS


def test_the_langfuse_sdk_sends_straight_to_the_receiver_with_its_secret_key(tmp_path):
    # a Langfuse fleet points its base URL at tierwatch: the SDK's own OTLP exporter posts
    # to /api/public/otel/v1/traces with Basic auth (public key : secret key); the secret
    # key is the receiver's token. The store equals the same spans loaded from a file.
    db = tmp_path / "langfuse.duckdb"
    with collecting(db, *FAST, "--token", "s3cret") as c:
        wrong = post(
            c["url"] + "/api/public/otel", b"", Authorization="Basic " + _basic("pk", "nope")
        )
        assert wrong[0] == 401
        fleet, _ = langfuse_fleet.simulate(jobs=4, seed=11, base_url=c["url"], secret_key="s3cret")
        drained(c["url"])
    from tierwatch.ingest.config import load_config
    from tierwatch.ingest.load import ingest_paths

    pb = tmp_path / "same.pb"
    pb.write_bytes(fleet.request().SerializeToString())
    ingest_paths(tmp_path / "file.duckdb", [str(pb)], load_config(None))
    query = (
        "select task_id, role, attempt, tier, input_tokens, output_tokens, cost_usd, status, "
        "escalation_reason from attempts where task_id like 'lf-%' order by all"
    )
    sent = rows(db, query)
    assert len(sent) == 2 * sum(len(t.attempts) for t in fleet.truth)
    assert sent == rows(tmp_path / "file.duckdb", query)


def _basic(user: str, password: str) -> str:
    import base64

    return base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_trace_completed_by_a_later_request_is_derived_once_with_every_span(tmp_path):
    # children first, the root last, in separate requests a second apart: nothing is
    # derived until the root is in, then the trace is derived whole
    db = tmp_path / "late.duckdb"
    request = otel_fleet.simulate(jobs=1, seed=4).request()
    spans = list(request.resource_spans[0].scope_spans[0].spans)
    root = [s for s in spans if not s.parent_span_id]
    assert len(root) == 1
    children = [s for s in spans if s.parent_span_id]

    def part(items) -> bytes:
        r = ExportTraceServiceRequest()
        r.CopyFrom(request)
        del r.resource_spans[0].scope_spans[0].spans[:]
        r.resource_spans[0].scope_spans[0].spans.extend(items)
        return r.SerializeToString()

    with collecting(db, "--batch-seconds", "0.2", "--settle", "1") as c:
        half = len(children) // 2
        assert post(c["url"], part(children[:half]))[0] == 200
        time.sleep(1.5)  # past the settle time, but the root has not come: still waiting
        with urllib.request.urlopen(f"{c['url']}/health") as r:
            assert json.loads(r.read())["waiting_spans"] == half
        assert post(c["url"], part(children[half:]))[0] == 200
        assert post(c["url"], part(root))[0] == 200
        drained(c["url"])
        # a span of the derived trace arriving now is quarantined, not folded in
        late = ExportTraceServiceRequest()
        late.CopyFrom(request)
        s = late.resource_spans[0].scope_spans[0].spans
        keep = s[0]
        keep.span_id = bytes.fromhex("00000000000000ff")
        del s[1:]
        # (it is acknowledged: it is durable; the writer finds it late and quarantines it)
        assert post(c["url"], late.SerializeToString())[0] == 200
    shown = json.loads(
        subprocess.run(
            [str(TIERWATCH), "rejects", "--db", str(db), "--format", "json"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        ).stdout
    )
    assert [r["reason"].split(" (")[0] for r in shown] == ["arrived after its trace was derived"]
    assert "00000000000000ff" in shown[0]["raw"]
    file_db = tmp_path / "file.duckdb"
    pb = tmp_path / "one.pb"
    pb.write_bytes(request.SerializeToString())
    subprocess.run(
        [str(TIERWATCH), "ingest", str(pb), "--db", str(file_db)],
        check=True,
        timeout=120,
        capture_output=True,
    )
    query = (
        "select task_id, role, attempt, tier, input_tokens, output_tokens, status "
        "from attempts order by all"
    )
    assert rows(db, query) == rows(file_db, query) and rows(db, query)
    assert rows(db, "select count(distinct derived_in) from collected_spans") == [(1,)]


@pytest.mark.parametrize("busy", ["report", "ingest"])
def test_report_and_ingest_work_while_spans_arrive(tmp_path, busy):
    db = tmp_path / "shared.duckdb"
    logs = tmp_path / "v1.jsonl"
    logs.write_text(
        json.dumps(
            {
                "task_id": "file-1",
                "ts": "2026-09-21T12:00:00Z",
                "task_type": "from_a_file",
                "tier": "haiku",
                "input_tokens": 10,
                "output_tokens": 5,
            }
        )
        + "\n"
    )
    with collecting(db, *FAST) as c:
        sender = threading.Thread(
            target=send_fleet, args=(c["url"], tmp_path, "--jobs", "30", "--pause", "0.05")
        )
        sender.start()
        try:
            for _ in range(5):
                time.sleep(0.3)
                if busy == "report":
                    cmd = [str(TIERWATCH), "report", "summary", "--db", str(db), "--json"]
                else:
                    cmd = [str(TIERWATCH), "ingest", str(logs), "--db", str(db)]
                done = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
                assert done.returncode == 0, done.stderr
        finally:
            sender.join()
    assert c["proc"].returncode == 0, c["log"]


def test_the_open_dashboard_shows_spans_sent_after_it_opened(tmp_path):
    from test_browser import browser_page, dashboard_server, require_chromium, screenshot
    from test_browser import settle as settled
    from test_lock import click_overview_until_the_count_changes, shown_tasks

    require_chromium()
    db = tmp_path / "live.duckdb"
    first = tmp_path / "first.pb"
    first.write_bytes(
        otel_fleet.simulate(jobs=6, seed=11, task_prefix="a-").request().SerializeToString()
    )
    subprocess.run(
        [str(TIERWATCH), "ingest", str(first), "--db", str(db)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    with collecting(db, *FAST) as c, dashboard_server(db) as url, browser_page() as page:
        page.goto(url)
        page.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
        settled(page)
        before = shown_tasks(page)
        assert before == 12  # 6 jobs of 2 tasks

        truth = send_fleet(c["url"], tmp_path, "--jobs", "9", "--task-prefix", "b-")
        drained(c["url"])
        # the next interaction of the same session sees the new tasks, without a restart
        click_overview_until_the_count_changes(page, before)
        settled(page)
        assert shown_tasks(page) == before + truth["tasks"] == 12 + 18
        screenshot(page, "collect-live-overview")


def test_a_task_retried_in_a_new_trace_goes_on_being_numbered(tmp_path):
    # the fleet names the task (tierwatch.task.id) and retries it one tier up in a trace
    # of its own after the reviewer failed the first: attempt 1 on haiku (failed), 2 on
    # sonnet (reason reviewer_reject), as a file holding both traces gives, though the
    # receiver derives them a batch apart
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    tracer = provider.get_tracer("test")
    requests = []
    for model, verdict in (
        ("claude-3-5-haiku-20241022", "fail"),
        ("claude-sonnet-4-5", "pass"),
    ):
        with tracer.start_as_current_span(
            "invoke_agent executor",
            attributes={
                "gen_ai.operation.name": "invoke_agent",
                "tierwatch.task.id": "T1",
                "tierwatch.task.type": "extraction",
                "tierwatch.planner.tier": "haiku",
            },
        ) as run:
            with tracer.start_as_current_span(
                f"chat {model}",
                attributes={
                    "gen_ai.operation.name": "chat",
                    "gen_ai.request.model": model,
                    "gen_ai.usage.input_tokens": 1000,
                    "gen_ai.usage.output_tokens": 100,
                },
            ):
                pass
            run.add_event("gen_ai.evaluation.result", {"gen_ai.evaluation.score.label": verdict})
        requests.append(otel_fleet.encode_spans(exporter.get_finished_spans()))
        exporter.clear()
    db = tmp_path / "retried.duckdb"
    with collecting(db, "--batch-seconds", "0.2", "--settle", "0.3") as c:
        for r in requests:
            assert post(c["url"], r.SerializeToString())[0] == 200
            drained(c["url"])
    query = "select task_id, attempt, tier, status, escalation_reason from attempts order by 2"
    assert rows(db, query) == [
        ("T1", 1, "haiku", "failed", None),
        ("T1", 2, "sonnet", "ok", "reviewer_reject"),
    ]
    assert rows(db, "select tier_path, escalations from tasks") == [(["haiku", "sonnet"], 1)]
    assert rows(db, "select count(*) from collected_spans where derived_in is null") == [(0,)]
    assert len(set(r[0] for r in rows(db, "select derived_in from collected_spans"))) == 2
    file_db, pb = tmp_path / "file.duckdb", tmp_path / "both.pb"
    both = ExportTraceServiceRequest()
    for r in requests:
        both.resource_spans.extend(r.resource_spans)
    pb.write_bytes(both.SerializeToString())
    subprocess.run(
        [str(TIERWATCH), "ingest", str(pb), "--db", str(file_db)],
        check=True,
        capture_output=True,
        timeout=120,
    )
    assert rows(file_db, query) == rows(db, query)

    # one file per trace, as protobuf and as a Collector's one-request-per-line JSON: the
    # second file's attempt goes on from the first's, and loading them again gives
    # duplicates, not attempts 3 and 4
    from google.protobuf import json_format

    for suffix, encode in (
        (".pb", lambda r: r.SerializeToString()),
        (".json", lambda r: (json.dumps(json_format.MessageToDict(r)) + "\n").encode()),
    ):
        split_db = tmp_path / f"split{suffix}.duckdb"
        parts = []
        for i, r in enumerate(requests):
            parts.append(tmp_path / f"trace-{i}{suffix}")
            parts[-1].write_bytes(encode(r))
        for loaded in (1, 0):
            done = subprocess.run(
                [str(TIERWATCH), "ingest", *map(str, parts), "--db", str(split_db), "--json"],
                check=True,
                capture_output=True,
                timeout=120,
            )
            report = json.loads(done.stdout)
            assert [f["loaded"] for f in report["files"]] == [loaded, loaded], suffix
        assert rows(split_db, query) == rows(db, query), suffix


def test_litellm_own_otel_callback_straight_into_the_receiver(tmp_path):
    # LiteLLM (offline, mock_response) exports its spans over OTLP/HTTP to the receiver:
    # each completion is one attempt with the model, tokens and cost LiteLLM reported
    (tmp_path / "tierwatch.toml").write_text('ladder = "openai"\n')
    db = tmp_path / "litellm.duckdb"
    with collecting(db, *FAST, "--config", str(tmp_path / "tierwatch.toml")) as c:
        done = subprocess.run(
            [sys.executable, str(HERE / "litellm_send.py"), f"{c['url']}/v1/traces", "3"],
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-3000:]
    said = [json.loads(line) for line in done.stdout.splitlines() if line.startswith("{")]
    assert len(said) == 3
    got = rows(
        db,
        "select model, tier, input_tokens, output_tokens, cost_usd, status from attempts "
        "order by ts",
    )
    assert [(m, i, o) for m, _, i, o, _, _ in got] == [
        (s["model"], s["input_tokens"], s["output_tokens"]) for s in said
    ]
    assert {(t, st) for _, t, _, _, _, st in got} == {("mini", "ok")}  # gpt-4o-mini: mini
    assert [cost for *_, cost, _ in got] == pytest.approx([s["cost"] for s in said])


def test_a_spool_left_by_a_crash_is_written_first_and_a_torn_append_is_left_out(tmp_path):
    # what a crash leaves: a request appended and fsynced (acknowledged) but not yet in the
    # store, then half of a line of one that was never acknowledged
    from tierwatch.ingest.collect import Spool, spool_of
    from tierwatch.ingest.sources import otlp

    db = tmp_path / "crashed.duckdb"
    request = otel_fleet.simulate(jobs=1, seed=21).request()
    spans = list(otlp.spans_of_protobuf(request.SerializeToString(), line=0))
    spool = Spool(spool_of(db))
    spool.append(spans, [])
    spool.close()
    segment = spool_of(db) / "000000000001.jsonl"
    with open(segment, "a") as f:
        f.write('# 1\n+{"trace_id": "ab')  # torn: no newline
    with collecting(db, *FAST) as c:
        drained(c["url"])
        # a second receiver on the same store is refused with a message, not a traceback
        second = subprocess.run(
            [str(TIERWATCH), "collect", "--db", str(db), "--port", str(free_port())],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert "another tierwatch collect" in second.stderr
        assert "Traceback" not in second.stderr
    assert "from the last run are written first" in c["log"]
    assert set(stored_spans(db)) == span_ids(request)
    assert list(spool_of(db).glob("*.jsonl")) == []


def test_a_port_in_use_is_a_message_and_exit_2(tmp_path):
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = subprocess.run(
            [str(TIERWATCH), "collect", "--db", str(tmp_path / "p.duckdb"), "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert done.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in done.stderr and "--port" in done.stderr
    assert "Traceback" not in done.stderr
