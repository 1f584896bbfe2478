"""Benchmark `tierwatch ingest` of LiteLLM spend logs and a Langfuse export against DuckDB's
bare read of the same file (issue 9: at most 2x).

    .venv/bin/python bench/bench_records.py [--rows 300000] [--out bench/out] [--seed 7]

Writes N rows of a `LiteLLM_SpendLogs` CSV export (as psql writes it: metadata and
request_tags as JSON text; tasks of one to three calls, a failed call escalating to the next
model) and a Langfuse observations export of N generations (one JSON document, `data`
holding the observations, an AGENT observation per task as their parent). Then, each in
its own subprocess and a fresh DuckDB file, times:

  (a) DuckDB's bare `create table t as select * from read_csv(...)` of the CSV, and
      `select unnest(data, recursive := true) from read_json(...)` of the Langfuse file
  (b) `tierwatch ingest` of each (the Langfuse one with `ladder = "openai"`)
  (c) peak memory (ru_maxrss) of each subprocess

Only the ratios travel between machines. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import json
import random
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_sources  # noqa: E402 (the bench folder is not a package)

TARGET = 2.0
LITELLM_MODELS = [
    ("claude-3-5-haiku-20241022", "haiku"),
    ("claude-sonnet-4-5", "sonnet"),
    ("claude-opus-4-1", "opus"),
]
OPENAI_MODELS = ["gpt-4.1-nano", "gpt-4.1-mini-2025-04-14", "gpt-4.1"]
START = dt.datetime(2026, 9, 1)


def _chains(rows: int, seed: int):
    """(task number, call number, model index, failed) until `rows` calls are made."""
    rng = random.Random(seed)
    made, task = 0, 0
    while made < rows:
        first = rng.choice((0, 0, 0, 1, 1, 2))
        for step in range(first, 3):
            failed = step < 2 and rng.random() < 0.15
            yield task, step - first, step, failed
            made += 1
            if not failed or made >= rows:
                break
        task += 1


def write_litellm(path: Path, rows: int, seed: int) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(
            "request_id startTime endTime model model_group spend prompt_tokens "
            "completion_tokens status metadata request_tags".split()
        )
        for n, (task, call, model, failed) in enumerate(_chains(rows, seed)):
            at = START + dt.timedelta(seconds=n * 3)
            name, group = LITELLM_MODELS[model]
            w.writerow(
                (
                    f"req-{n}",
                    at.strftime("%Y-%m-%d %H:%M:%S"),
                    (at + dt.timedelta(seconds=2)).strftime("%Y-%m-%d %H:%M:%S"),
                    name,
                    group,
                    f"{0.0004 * (model + 1) * (call + 1):.6f}",
                    2000,
                    400,
                    "failure" if failed else "success",
                    json.dumps({"spend_logs_metadata": {"task_id": f"task-{task}"}}),
                    json.dumps([f"taskName:type_{task % 40}"]),
                )
            )


def write_langfuse(path: Path, rows: int, seed: int) -> None:
    data = []
    last_task = None
    for n, (task, _call, model, failed) in enumerate(_chains(rows, seed)):
        at = START + dt.timedelta(seconds=n * 3)
        if task != last_task:
            data.append(
                {
                    "id": f"agent-{task}",
                    "traceId": f"trace-{task}",
                    "type": "AGENT",
                    "name": f"type_{task % 40}",
                    "startTime": at.isoformat() + "Z",
                }
            )
            last_task = task
        data.append(
            {
                "id": f"gen-{n}",
                "traceId": f"trace-{task}",
                "type": "GENERATION",
                "name": "chat",
                "parentObservationId": f"agent-{task}",
                "model": OPENAI_MODELS[model],
                "startTime": at.isoformat() + "Z",
                "endTime": (at + dt.timedelta(seconds=2)).isoformat() + "Z",
                "usageDetails": {"input": 2000, "output": 400, "total": 2400},
                "costDetails": {"total": 0.0004 * (model + 1)},
                "level": "ERROR" if failed else "DEFAULT",
                "metadata": {"tierwatch.task.type": f"type_{task % 40}"},
            }
        )
    meta = {"page": 1, "limit": len(data), "totalItems": len(data), "totalPages": 1}
    path.write_text(json.dumps({"data": data, "meta": meta}), encoding="utf-8")


CHILD = r"""
import json, resource, sys, time
mode, src, db, config = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4]
t = time.perf_counter()
if mode == "bare-csv":
    import duckdb
    con = duckdb.connect(db)
    con.execute("create table t as select * from read_csv(?)", [src])
    extra = {}
elif mode == "bare-json":
    import duckdb
    con = duckdb.connect(db)
    con.execute("create table t as select unnest(data, recursive := true) from "
                "read_json(?, maximum_object_size=2147483647)", [src])
    extra = {}
else:
    from tierwatch.ingest.config import load_config
    from tierwatch.ingest.load import ingest_paths
    report = ingest_paths(db, [src], load_config(config or None))
    extra = {**report.totals, "errors": [e for _, e in report.errors]}
print(json.dumps({"seconds": time.perf_counter() - t,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}))
"""


def run(mode: str, src: Path, out: Path, config: Path | None = None) -> dict:
    return bench_sources.run(mode, src, out, CHILD, (config or "",))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, default=300_000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    spend = args.out / "spend_logs.csv"
    langfuse = args.out / "observations.json"
    openai = args.out / "openai.toml"
    openai.write_text('ladder = "openai"\n', encoding="utf-8")
    write_litellm(spend, args.rows, args.seed)
    write_langfuse(langfuse, args.rows, args.seed)
    print(f"{args.rows:,} model calls each; python {sys.version.split()[0]}")
    for name, src, bare_mode, config in (
        ("LiteLLM spend logs (CSV)", spend, "bare-csv", None),
        ("Langfuse observations (JSON)", langfuse, "bare-json", openai),
    ):
        bare = run(bare_mode, src, args.out)
        ingest = run("ingest", src, args.out, config)
        if ingest.get("errors"):  # a refused file is no measurement
            sys.exit(f"{name}: tierwatch ingest refused it: {ingest['errors'][0]}")
        ratio = ingest["seconds"] / bare["seconds"]
        verdict = "met" if ratio <= TARGET else "MISSED"
        print(
            f"{name:30s} {src.stat().st_size / 1e6:6.0f} MB  bare {bare['seconds']:7.2f} s "
            f"({bare['rss_mb']:.0f} MB)  ingest {ingest['seconds']:7.2f} s "
            f"({ingest['rss_mb']:.0f} MB)  {ratio:5.1f}x bare (target <= {TARGET:g}x: "
            f"{verdict}); loaded {ingest['loaded']:,}, rejected {ingest['rejected']:,}"
        )


if __name__ == "__main__":
    main()
