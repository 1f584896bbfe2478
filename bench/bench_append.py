"""Small appends stay small: loading 1,000 attempts into a big store against loading the same
1,000 into an empty one, in the same run.

    .venv/bin/python bench/bench_append.py [--attempts 10000000] [--append 1000] [--repeat 3]

Builds the big store as bench_reports.py does (N attempts in SQL, task facts and the task
rollup refreshed for every task, as ingest does), then --repeat times: writes --append
attempts of new tasks (one to three executor calls each, some escalating, on days inside
the store's span, so the task rollup's keys they touch already hold rows) as JSONL, and
times `ingest_paths` of that file into (a) an empty store (created before the clock starts)
and (b) the big store. Each
repeat uses new task ids, so every load is a real append. Target (issue 8): (b) at most 2x
(a) at 10M attempts. Prints the median seconds and the ratio. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reports import build  # noqa: E402

from tierwatch.ingest.config import load_config  # noqa: E402
from tierwatch.ingest.load import ingest_paths  # noqa: E402
from tierwatch.ingest.store import open_store  # noqa: E402

TARGET = 2.0


RUN = uuid.uuid4().hex[:8]  # a store reused with --reuse has the last run's appends


def append_file(path: Path, attempts: int, repeat: int) -> Path:
    """`attempts` records of new tasks (ids unique to this run and repeat) as JSONL."""
    tiers = ("haiku", "sonnet", "opus")
    lines, task = [], 0
    while len(lines) < attempts:
        task += 1
        day = 1 + task % 28
        chain = 1 + task % 3
        start = task % 2
        for n in range(min(chain, attempts - len(lines))):
            record = {
                "task_id": f"append-{RUN}-{repeat}-{task}",
                "ts": f"2026-02-{day:02d}T10:{n:02d}:00Z",
                "task_type": f"type_{task % 40}",
                "tier": tiers[min(start + n, 2)],
                "attempt": n + 1,
                "status": "ok" if n == chain - 1 else "failed",
                "input_tokens": 1200 + task % 500,
                "output_tokens": 300 + task % 200,
                "fleet": f"fleet_{task % 3}",
            }
            if n:
                record["escalation_reason"] = "reviewer_reject"
            lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def timed_load(db: Path, log: Path) -> float:
    started = time.perf_counter()
    report = ingest_paths(db, [log], load_config(None))
    seconds = time.perf_counter() - started
    assert not report.errors and report.totals["rejected"] == 0, report.to_json()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--attempts", type=int, default=1_000_000, help="the big store's size")
    parser.add_argument("--append", type=int, default=1_000, help="attempts appended")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--db", type=Path, help="the big store (default: a temp file)")
    parser.add_argument("--reuse", action="store_true", help="reuse --db if it exists")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="tierwatch-append-") as tmp:
        work = Path(tmp)
        big = args.db or work / "big.duckdb"
        if args.reuse and big.exists():
            with duckdb.connect(str(big), read_only=True) as con:
                n = con.execute("select count(*) from attempts").fetchone()[0]
            print(f"reusing {big}: {n:,} attempts")
        else:
            n, tasks, seconds = build(big, args.attempts)
            print(f"built {big}: {n:,} attempts, {tasks:,} tasks in {seconds:.1f} s")
        print(
            f"python {platform.python_version()}, duckdb {duckdb.__version__}, "
            f"append {args.append:,} attempts, repeat {args.repeat} (median)"
        )
        empty, full = [], []
        for r in range(args.repeat):
            log = append_file(work / f"append-{r}.jsonl", args.append, r)
            fresh = work / f"empty-{r}.duckdb"
            with open_store(fresh, read_only=False):  # made (migrated) before the clock
                pass
            empty.append(timed_load(fresh, log))
            full.append(timed_load(big, log))
        a, b = statistics.median(empty), statistics.median(full)
        ratio = b / a
        verdict = "met" if ratio <= TARGET else "MISSED"
        print(f"append into an empty store   {a:7.3f} s")
        print(f"append into {n:>12,} attempts {b:7.3f} s   {ratio:.2f}x  (target <= {TARGET:g}x: "
              f"{verdict})")  # fmt: skip


if __name__ == "__main__":
    main()
