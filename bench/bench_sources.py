"""Benchmark `tierwatch ingest` of OpenTelemetry traces against DuckDB's bare read_json.

    .venv/bin/python bench/bench_sources.py [--calls 100000] [--out bench/out] [--seed 7]

Writes N model-call spans, each inside an agent run with a tool call beside it (3N spans),
512 spans to an export request, as OTLP/JSON one request per line (the Collector's file
exporter) and as OTLP protobuf requests (one `.pb` file per request in a folder). Then, each
in its own subprocess and a fresh DuckDB file, times:

  (a) tierwatch ingest of the JSON file, and of the protobuf folder
  (b) DuckDB's bare `create table t as select * from read_json(...)` of the JSON file:
      the ratio ingest/bare is the figure with a target (at most 3x)
  (c) peak memory (ru_maxrss) of each ingest subprocess

Only the ratios travel between machines. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
TARGET = 3.0
BATCH = 512
MODELS = ["claude-3-5-haiku-20241022", "claude-sonnet-4-5", "claude-opus-4-1"]


def _attr(key, value):
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": value}}


def generate(n: int, seed: int, out: Path) -> tuple[Path, Path]:
    """N calls as OTLP/JSON (one request per line) and as protobuf requests."""
    from google.protobuf import json_format
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    out.mkdir(parents=True, exist_ok=True)
    js = out / f"otlp-{n}-{seed}.json"
    pb_dir = out / f"otlp-{n}-{seed}-pb"
    if js.exists() and pb_dir.exists():
        return js, pb_dir
    pb_dir.mkdir(exist_ok=True)
    rng = random.Random(seed)
    t0 = 1_790_000_000 * 10**9
    spans = []
    with js.open("w") as f:
        for i in range(n):
            trace = f"{rng.getrandbits(128):032x}"
            run, call, tool = (f"{rng.getrandbits(64):016x}" for _ in range(3))
            start = t0 + i * 10**9
            tier = rng.choices(range(3), weights=(80, 15, 5))[0]
            common = {
                "traceId": trace,
                "startTimeUnixNano": str(start),
                "endTimeUnixNano": str(start + 5 * 10**8),
                "kind": 1,
            }
            spans.append(
                {
                    **common,
                    "spanId": run,
                    "name": "invoke_agent executor",
                    "attributes": [
                        _attr("gen_ai.operation.name", "invoke_agent"),
                        _attr("gen_ai.agent.name", f"agent_{i % 12}"),
                        _attr("tierwatch.task.id", f"task-{i}"),
                        _attr("tierwatch.task.type", f"type_{i % 12}"),
                    ],
                }
            )
            spans.append(
                {
                    **common,
                    "spanId": tool,
                    "parentSpanId": run,
                    "name": "execute_tool search",
                    "attributes": [_attr("gen_ai.operation.name", "execute_tool")],
                }
            )
            spans.append(
                {
                    **common,
                    "spanId": call,
                    "parentSpanId": run,
                    "name": f"chat {MODELS[tier]}",
                    "attributes": [
                        _attr("gen_ai.operation.name", "chat"),
                        _attr("gen_ai.request.model", MODELS[tier]),
                        _attr("gen_ai.usage.input_tokens", rng.randint(500, 3000)),
                        _attr("gen_ai.usage.output_tokens", rng.randint(50, 800)),
                    ],
                }
            )
            if len(spans) >= BATCH or i == n - 1:
                doc = {
                    "resourceSpans": [
                        {
                            "resource": {"attributes": [_attr("service.name", "bench-fleet")]},
                            "scopeSpans": [{"scope": {"name": "bench"}, "spans": spans}],
                        }
                    ]
                }
                f.write(json.dumps(doc) + "\n")
                msg = ExportTraceServiceRequest()
                json_format.ParseDict(_for_protobuf(doc), msg)
                (pb_dir / f"{i:09d}.pb").write_bytes(msg.SerializeToString())
                spans = []
    return js, pb_dir


def _for_protobuf(doc: dict) -> dict:
    """ParseDict reads ids as base64: hand it base64 of the hex ids."""
    import base64
    import copy

    doc = copy.deepcopy(doc)
    for rs in doc["resourceSpans"]:
        for ss in rs["scopeSpans"]:
            for s in ss["spans"]:
                for k in ("traceId", "spanId", "parentSpanId"):
                    if k in s:
                        s[k] = base64.b64encode(bytes.fromhex(s[k])).decode()
    return doc


CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, src, db = sys.argv[1], sys.argv[2], sys.argv[3]
t = time.perf_counter()
if mode == "bare":
    import duckdb
    con = duckdb.connect(db)
    con.execute("create table t as select * from read_json(?, format='newline_delimited', "
                "maximum_object_size=1073741824)", [src])
    con.close()
    extra = {}
else:
    from tierwatch.ingest.config import load_config
    from tierwatch.ingest.load import ingest_paths
    report = ingest_paths(db, [src], load_config(None))
    extra = report.totals
print(json.dumps({"seconds": time.perf_counter() - t,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}))
"""


def run(mode: str, src: Path, out: Path, child: str = CHILD, extra: tuple = ()) -> dict:
    """`child` (a Python script: mode, source, database, *extra) in a fresh process and a
    fresh DuckDB file; the JSON object it prints last."""
    db = out / f"bench-{mode}-{time.time_ns()}.duckdb"
    try:
        done = subprocess.run(
            [sys.executable, "-c", child, mode, str(src), str(db), *map(str, extra)],
            capture_output=True,
            text=True,
            check=True,
            cwd=ROOT,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])
    finally:
        for p in out.glob(db.name + "*"):
            p.unlink()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--calls", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument(
        "--no-protobuf", action="store_true", help="skip the (slow) folder of protobuf files"
    )
    args = ap.parse_args()
    js, pb = generate(args.calls, args.seed, args.out)
    bare = run("bare", js, args.out)
    ingest_json = run("ingest", js, args.out)
    ingest_pb = None if args.no_protobuf else run("ingest", pb, args.out)
    print(
        f"{args.calls:,} model calls ({3 * args.calls:,} spans), "
        f"{js.stat().st_size / 1e6:.0f} MB JSON"
    )
    print(f"bare read_json          {bare['seconds']:8.2f} s")
    for name, r in (("ingest OTLP/JSON", ingest_json), ("ingest OTLP protobuf", ingest_pb)):
        if r is None:
            continue
        ratio = r["seconds"] / bare["seconds"]
        verdict = "met" if ratio <= TARGET else "MISSED"
        print(
            f"{name:22s}  {r['seconds']:8.2f} s  {ratio:5.1f}x bare (target <= {TARGET:g}x: "
            f"{verdict}), peak {r['rss_mb']:.0f} MB, loaded {r['loaded']:,}"
        )
    print(f"peak memory: bare {bare['rss_mb']:.0f} MB")
    _ = resource  # the children measure their own RSS


if __name__ == "__main__":
    main()
