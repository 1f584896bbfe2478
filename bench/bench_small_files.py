"""Benchmark `tierwatch ingest` of a folder of small files: one object per model call, as
LiteLLM's S3 and GCS loggers write them, and one-record log-format-v1 files (issue 8: small
appends stay small).

    .venv/bin/python bench/bench_small_files.py [--files 10000] [--alone 300] [--out bench/out]

Writes N StandardLoggingPayload objects under LiteLLM's own key layout
(`DAY/time-HH-MM-SS-us_ID.json`; tasks of one to three calls, a failed call escalating to
the next group) and N one-record JSONL files. Then, each in its own subprocess and a fresh
DuckDB file, times:

  (a) DuckDB's bare `create table t as select * from read_json('FOLDER/**/*.json')` of the
      objects: the baseline, one statement over every file
  (b) `tierwatch ingest FOLDER` (small files many in one pass: ingest_small_files)
  (c) the same with every file loaded alone (`SMALL_FILE_BYTES = 0`), on the first
      `--alone` files only (it costs about 0.2 s a file), as seconds per file
  (d) peak memory (ru_maxrss) of each

Only the ratios travel between machines. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_records  # noqa: E402 (the bench folder is not a package)
import bench_sources  # noqa: E402

GROUPS = ("haiku", "sonnet", "opus")


def write_objects(folder: Path, n: int, seed: int) -> None:
    """N one-call payload objects, named as LiteLLM's S3 logger names them."""
    start = bench_records.START.timestamp()
    for i, (task, _call, model, failed) in enumerate(bench_records._chains(n, seed)):
        at = start + 3 * i
        name, group = bench_records.LITELLM_MODELS[model]
        payload = {
            "id": f"chatcmpl-{i:08d}",
            "trace_id": f"trace-{task}",
            "call_type": "completion",
            "status": "failure" if failed else "success",
            "model": f"anthropic/{name}",
            "model_group": group,
            "prompt_tokens": 0 if failed else 2000,
            "completion_tokens": 0 if failed else 400,
            "total_tokens": 0 if failed else 2400,
            "response_cost": 0.0 if failed else 0.0004 * (model + 1),
            "startTime": at,
            "endTime": at + 2.0,
            "metadata": {"spend_logs_metadata": {"task_id": f"task-{task}"}},
        }
        day = folder / f"2026-09-{1 + i * 3 // 86400:02d}"
        day.mkdir(parents=True, exist_ok=True)
        t = i * 3 % 86400
        key = f"time-{t // 3600:02d}-{t // 60 % 60:02d}-{t % 60:02d}-{i % 1_000_000:06d}"
        (day / f"{key}_{payload['id']}.json").write_text(json.dumps(payload))


def write_v1(folder: Path, n: int) -> None:
    """N one-record files of log format v1."""
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        record = {
            "task_id": f"task-{i}",
            "ts": f"2026-09-01T{i // 3600 % 24:02d}:{i // 60 % 60:02d}:{i % 60:02d}Z",
            "task_type": "triage",
            "tier": GROUPS[i % 3],
            "planner_tier": GROUPS[i % 3],
            "input_tokens": 2000,
            "output_tokens": 400,
            "status": "ok",
        }
        (folder / f"{i:08d}.jsonl").write_text(json.dumps(record) + "\n")


CHILD = """
import json, resource, sys, time
from pathlib import Path
mode, src, db, limit = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
t = time.perf_counter()
if mode == "bare":
    import duckdb
    con = duckdb.connect(db)
    con.execute("create table t as select * from read_json(?, union_by_name = true)",
                [src + "/**/*.json"])
    files = con.execute("select count(*) from t").fetchone()[0]
    con.close()
    extra = {"files": files}
else:
    from tierwatch.ingest import load
    from tierwatch.ingest.config import load_config
    paths = load.expand_paths([src])[:limit]
    if mode == "alone":
        load.SMALL_FILE_BYTES = 0
    t = time.perf_counter()
    report = load.ingest_paths(db, paths, load_config(None))
    extra = {**report.totals, "files": len(report.files), "errors": len(report.errors)}
print(json.dumps({"seconds": time.perf_counter() - t,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, **extra}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--files", type=int, default=10_000)
    ap.add_argument("--alone", type=int, default=300, help="files loaded one at a time")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    args = ap.parse_args()
    objects = args.out / f"s3-{args.files}-{args.seed}"
    v1 = args.out / f"v1-files-{args.files}"
    for folder, write in (
        (objects, lambda f: write_objects(f, args.files, args.seed)),
        (v1, lambda f: write_v1(f, args.files)),
    ):
        if not folder.exists():  # written once, reused by the next run with the same N
            tmp = folder.with_name(folder.name + ".tmp")
            shutil.rmtree(tmp, ignore_errors=True)
            write(tmp)
            tmp.rename(folder)

    def run(mode: str, src: Path, limit: int) -> dict:
        return bench_sources.run(mode, src, args.out, CHILD, (limit,))

    bare = run("bare", objects, args.files)
    print(
        f"{args.files:,} small files of each kind; baseline: DuckDB's bare read_json of "
        f"the {bare['files']:,} LiteLLM objects in {bare['seconds']:.2f} s "
        f"({bare['seconds'] / args.files * 1000:.2f} ms a file), peak {bare['rss_mb']:.0f} MB"
    )
    for name, src in (("LiteLLM objects", objects), ("v1 one-record files", v1)):
        grouped = run("ingest", src, args.files)
        alone = run("alone", src, args.alone)
        per_grouped = grouped["seconds"] / grouped["files"]
        per_alone = alone["seconds"] / alone["files"]
        print(
            f"{name:20s} ingest {grouped['seconds']:8.2f} s ({per_grouped * 1000:6.2f} ms a "
            f"file, {grouped['seconds'] / bare['seconds']:5.1f}x bare, peak "
            f"{grouped['rss_mb']:.0f} MB, loaded {grouped['loaded']:,}, errors "
            f"{grouped['errors']}); one at a time {per_alone * 1000:6.1f} ms a file "
            f"({alone['files']} files): {per_alone / per_grouped:5.1f}x slower"
        )


if __name__ == "__main__":
    main()
