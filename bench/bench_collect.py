"""Benchmark `tierwatch collect` (the OTLP/HTTP receiver) against `tierwatch ingest` of the
same spans from a file, in the same run.

    .venv/bin/python bench/bench_collect.py [--calls 50000] [--out bench/out] [--seed 7]

The spans are bench_sources.py's: N model calls, each in an agent run with a tool call
beside it (3N spans, one trace per run), 512 spans to an export request (the SDK's
default batch), prebuilt as OTLP protobuf request bodies. Then, each against a fresh
DuckDB file:

  (a) baseline: `tierwatch ingest` of the same spans as one OTLP/JSON file (one request
      per line), and of the folder of protobuf requests, in subprocesses: spans per second
  (b) sustained throughput: 4 load-generator threads post every request as fast as the
      receiver takes them (honouring 503 Retry-After), until every trace is derived:
      spans per second, and the ratio to (a) (target: at least 0.5)
  (c) time to acknowledge at 1,000 spans/s: one 512-span request every 0.512 s for
      --steady-seconds; p50 / p99 / max
  (d) a 10x burst: 10,000 spans/s offered for --burst-seconds from 8 threads; the
      receiver's peak memory (VmHWM), how many requests were told to retry (503), and
      after each phase, whether the store holds exactly the spans acknowledged

Only the ratios travel between machines. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_sources import generate  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
TIERWATCH = Path(sys.executable).parent / "tierwatch"
TARGET = 0.5


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Receiver:
    def __init__(self, db: Path, *extra: str):
        self.db, self.port = db, free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = open(db.with_suffix(".log"), "w")  # noqa: SIM115
        self.proc = subprocess.Popen(
            [str(TIERWATCH), "collect", "--db", str(db), "--port", str(self.port), *extra],
            stdout=self.log,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=2).read()
                return
            except OSError:
                if time.monotonic() > deadline or self.proc.poll() is not None:
                    raise RuntimeError(db.with_suffix(".log").read_text()) from None
                time.sleep(0.1)

    def health(self) -> dict:
        return json.loads(urllib.request.urlopen(f"{self.url}/health", timeout=30).read())

    def peak_mb(self) -> float:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def drain(self, timeout: float = 600) -> None:
        """Until nothing is queued or waiting for its trace."""
        deadline = time.monotonic() + timeout
        while True:
            h = self.health()
            if h["queued_spans"] == 0 and h["waiting_traces"] == 0:
                return
            if time.monotonic() > deadline:
                raise RuntimeError(f"still waiting: {h}")
            time.sleep(0.1)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=300)
        self.log.close()


def post(url: str, body: bytes) -> tuple[int, float, int]:
    """Post until acknowledged: (status, seconds to the acknowledgement, 503s on the way)."""
    refused = 0
    while True:
        t = time.perf_counter()
        req = urllib.request.Request(
            f"{url}/v1/traces",
            data=body,
            method="POST",
            headers={"Content-Type": "application/x-protobuf"},
        )
        try:
            with urllib.request.urlopen(req, timeout=120) as r:
                r.read()
                return r.status, time.perf_counter() - t, refused
        except urllib.error.HTTPError as e:
            if e.code != 503:
                return e.code, time.perf_counter() - t, refused
            refused += 1
            time.sleep(float(e.headers.get("Retry-After", "1")))


def stored(db: Path) -> int:
    con = duckdb.connect(str(db), read_only=True)
    try:
        n, distinct = con.execute(
            "select count(*), count(distinct (trace_id, span_id)) from collected_spans"
        ).fetchone()
        assert n == distinct, "a span is stored twice"
        return n
    finally:
        con.close()


def spans_in(body: bytes) -> int:
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    r = ExportTraceServiceRequest.FromString(body)
    return sum(len(ss.spans) for rs in r.resource_spans for ss in rs.scope_spans)


def ingest_seconds(src: Path, out: Path) -> float:
    db = out / f"bench-collect-ingest-{time.time_ns()}.duckdb"
    t = time.perf_counter()
    subprocess.run(
        [str(TIERWATCH), "ingest", str(src), "--db", str(db)],
        check=True,
        capture_output=True,
        cwd=ROOT,
    )
    seconds = time.perf_counter() - t
    for p in out.glob(db.name + "*"):
        p.unlink()
    return seconds


def fresh_db(out: Path, name: str) -> Path:
    db = out / f"bench-collect-{name}-{time.time_ns()}.duckdb"
    return db


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--steady-seconds", type=float, default=30)
    ap.add_argument("--burst-seconds", type=float, default=10)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    js, pb_dir = generate(args.calls, args.seed, args.out)
    bodies = [p.read_bytes() for p in sorted(pb_dir.glob("*.pb"))]
    sizes = [spans_in(b) for b in bodies]
    total = sum(sizes)
    print(f"{args.calls:,} model calls, {total:,} spans in {len(bodies)} requests")

    # (a) the same spans from a file
    file_s = ingest_seconds(js, args.out)
    folder_s = ingest_seconds(pb_dir, args.out)
    print(f"(a) ingest OTLP/JSON file      {file_s:7.2f} s  {total / file_s:9,.0f} spans/s")
    print(f"    ingest protobuf folder     {folder_s:7.2f} s  {total / folder_s:9,.0f} spans/s")

    # (b) sustained throughput
    db = fresh_db(args.out, "throughput")
    rx = Receiver(db)
    todo = list(range(len(bodies)))
    lock = threading.Lock()
    refused = [0]

    def worker() -> None:
        while True:
            with lock:
                if not todo:
                    return
                i = todo.pop()
            status, _, r = post(rx.url, bodies[i])
            assert status == 200, status
            with lock:
                refused[0] += r

    t = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(4)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    acked_s = time.perf_counter() - t
    rx.drain()
    derived_s = time.perf_counter() - t
    rx.stop()
    rate = total / derived_s
    ratio = rate / (total / file_s)
    verdict = "met" if ratio >= TARGET else "MISSED"
    print(
        f"(b) collect, 4 posters          {derived_s:7.2f} s  {rate:9,.0f} spans/s "
        f"(all acknowledged after {acked_s:.2f} s, {refused[0]} told to retry): "
        f"{ratio:.2f}x ingest of the file (target >= {TARGET:g}x: {verdict})"
    )
    print(f"    store holds {stored(db):,} spans of {total:,} acknowledged")

    # (c) time to acknowledge at 1,000 spans/s
    db = fresh_db(args.out, "steady")
    rx = Receiver(db)
    latencies, sent, i = [], 0, 0
    start = time.perf_counter()
    while time.perf_counter() - start < args.steady_seconds:
        due = start + sent / 1000
        time.sleep(max(0.0, due - time.perf_counter()))
        status, seconds, _ = post(rx.url, bodies[i % len(bodies)])
        assert status == 200
        latencies.append(seconds)
        sent += sizes[i % len(bodies)]
        i += 1
    rx.drain()
    rx.stop()
    q = statistics.quantiles(latencies, n=100, method="inclusive")
    print(
        f"(c) at 1,000 spans/s for {args.steady_seconds:g} s ({i} requests): acknowledged in "
        f"p50 {q[49] * 1000:.0f} ms, p99 {q[98] * 1000:.0f} ms, max {max(latencies) * 1000:.0f} ms "
        f"(the batch interval is 1 s)"
    )
    print(f"    store holds {stored(db):,} spans of {min(sent, total):,} acknowledged")

    # (d) a 10x burst
    db = fresh_db(args.out, "burst")
    rx = Receiver(db)
    base_mb = rx.peak_mb()
    acked, refused_burst, n = [0], [0], [0]
    stop_at = time.perf_counter() + args.burst_seconds

    def burster(k: int) -> None:
        j = k
        while time.perf_counter() < stop_at and j < len(bodies):
            due = time.perf_counter() + 8 * 512 / 10_000  # each of 8 threads: 1/8 of 10k/s
            status, _, r = post(rx.url, bodies[j])
            assert status == 200
            with lock:
                acked[0] += sizes[j]
                refused_burst[0] += r
                n[0] += 1
            j += 8
            time.sleep(max(0.0, due - time.perf_counter()))

    threads = [threading.Thread(target=burster, args=(k,)) for k in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    rx.drain()
    peak = rx.peak_mb()
    rx.stop()
    print(
        f"(d) 10,000 spans/s offered for {args.burst_seconds:g} s: {n[0]} requests "
        f"acknowledged, {refused_burst[0]} told to retry (503); receiver peak memory "
        f"{peak:.0f} MB (idle {base_mb:.0f} MB)"
    )
    print(f"    store holds {stored(db):,} spans of {acked[0]:,} acknowledged")
    for p in args.out.glob("bench-collect-*"):
        if p.is_dir():
            for q in p.iterdir():
                q.unlink()
            p.rmdir()
        else:
            p.unlink()


if __name__ == "__main__":
    main()
