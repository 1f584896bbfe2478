"""Benchmark `tierwatch ingest` against DuckDB's bare readers, pandas, and itself.

    .venv/bin/python bench/bench_ingest.py [--attempts 1000000] [--out bench/out] [--seed 7]

Generates N attempts of log format v1 (a seeded, deterministic fleet: executor chains with
escalations, reviewer calls, 12 task types, a tier mix near 80/15/5) as JSONL, CSV and
Parquet (those of --formats) with DuckDB SQL, then, each in its own subprocess and a fresh
DuckDB file, times:

  (a) tierwatch ingest of each file (ingest.load.ingest_paths, the library call behind the CLI)
  (b) DuckDB's bare `create table t as select * from read_json/read_csv/read_parquet(...)`
      of the same file: the ratio ingest/bare is the figure with a target
  (c) pandas.read_json(lines=True) + insert into DuckDB of the JSONL file: ratio pandas/ingest
  (d) re-ingest of the already loaded JSONL file into the same store, and (for reference, no
      target) the same records under new bytes, which goes through the full dedupe path
  (e) peak memory: the RSS high-water mark (getrusage ru_maxrss) of each ingest subprocess

Times are wall-clock seconds inside the subprocess around the one call (opening, loading and
closing the database file; not the Python start-up). Everything runs in the same session on
the same machine, so only the ratios travel between machines. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# what one target means: (name, measured key, limit, "at most" or "at least")
TARGETS = {
    "jsonl": 2.0,  # ingest / bare read_json
    "csv": 2.0,  # ingest / bare read_csv
    "parquet": 1.5,  # ingest / bare read_parquet
}
PANDAS_TARGET = 5.0  # pandas / ingest, at least (issue 8; issue 2 had asked 10)
REINGEST_TARGET_S = 2.0  # re-ingest of an already loaded 1M-record file, at most
RSS_TARGET_MB = 2048  # peak RSS of an ingest of 10M attempts, at most

TASK_TYPES = [
    "html_extraction",
    "relevance_classification",
    "article_draft",
    "draft_review",
    "publish_gate",
    "competitor_names",
    "feature_extraction",
    "segment_classification",
    "theme_synthesis",
    "research_summary",
    "status_check",
    "contract_clause_risk",
]
FLEETS = ["content", "research", "ops", "legal"]
LADDER = ["haiku", "sonnet", "opus"]
MODELS = ["claude-3-5-haiku-20241022", "claude-sonnet-4-20250514", "claude-opus-4-20250514"]


# --- generating the data ---------------------------------------------------------------

# One row per attempt. Tasks are numbered k; a task has 1-3 executor attempts climbing the
# ladder from the planner's tier (78% one attempt, 16% two, 6% three) and, for 30% of tasks, a
# reviewer call. Every value is a hash of (k, seed, salt): deterministic and thread-safe.
_GENERATE_SQL = """
with tasks as (
    select
        k,
        (hash(k, $seed, 1) % 12)::bigint as type_i,
        case when hash(k, $seed, 2) % 100 < 80 then 0
             when hash(k, $seed, 2) % 100 < 95 then 1 else 2 end as planner_rank,
        1 + (hash(k, $seed, 3) % 100 >= 78)::int + (hash(k, $seed, 3) % 100 >= 94)::int
            as n_exec,
        (hash(k, $seed, 4) % 100 < 30)::int as has_review,
        (hash(k, $seed, 5) % 4)::bigint as fleet_i
    from range($tasks) as r(k)
),
counted as (
    select *, sum(n_exec + has_review) over (order by k rows unbounded preceding)
        - (n_exec + has_review) as rows_before
    from tasks
),
attempt_rows as (
    select c.*, unnest(range(1, n_exec + has_review + 1)) as a
    from counted as c
    where rows_before < $n
),
shaped as (
    select
        k, a, rows_before, planner_rank, n_exec, type_i, fleet_i,
        a > n_exec as is_review,
        case when a > n_exec then 1 else least(planner_rank + a - 1, 2) end as tier_i,
        (hash(k, $seed, 10 + a) >> 1)::bigint as h
    from attempt_rows
    where rows_before + a <= $n
)
select
    't' || lpad(k::varchar, 9, '0') as task_id,
    strftime(timestamp '2026-01-01' + to_seconds(k * 2 + a * 17),
        '%Y-%m-%dT%H:%M:%SZ') as ts,
    $task_types[type_i + 1] as task_type,
    $ladder[tier_i + 1] as tier,
    $ladder[planner_rank + 1] as planner_tier,
    case when is_review then 'reviewer' else 'executor' end as role,
    case when is_review then 1 else a end as attempt,
    $models[tier_i + 1] as model,
    500 + h % 3500 as input_tokens,
    100 + (h // 3500) % 1400 as output_tokens,
    case when not is_review then round(((h // 4900000) % 1000) / 1000.0, 3) end as confidence,
    case when not is_review then 'self_report' end as confidence_source,
    case when is_review then 'ok'
         when a < n_exec then 'failed'
         when (h // 7) % 100 < 3 then 'error'
         else 'ok' end as status,
    case when not is_review and a > 1 then
        case when (h // 11) % 2 = 0 then 'low_confidence' else 'reviewer_reject' end
    end as escalation_reason,
    $fleets[fleet_i + 1] as fleet,
    'p' || lpad((k // 5)::varchar, 8, '0') as plan_id
from shaped
order by rows_before + a
"""


BASE = 10_000_000  # attempts generated at once; Parquet past it is made of copies (below)


def generate(n: int, out: Path, seed: int, formats: list[str]) -> dict[str, Path]:
    """Write n attempts as attempts-N.jsonl, .csv and/or .parquet under out, those of
    `formats` only (each reused if there, made with the same seed).

    Parquet of more than BASE attempts (100M) is n / BASE copies of the BASE-attempt file,
    each copy's tasks and plans renamed (`-c2`, `-c3`, ...) and its times moved on by
    COPY_SHIFT, written a row group at a time: the generating query's window and sort over
    100M rows do not fit in memory."""
    import duckdb

    files = {fmt: out / f"attempts-{n}.{fmt}" for fmt in formats}
    stamps = {fmt: out / f"attempts-{n}.{fmt}.seed" for fmt in formats}
    wanted = [f for f in formats if not (files[f].exists() and _stamped(stamps[f]) == str(seed))]
    if not wanted:
        return files
    if n > BASE:
        if wanted != ["parquet"] or n % BASE:
            raise SystemExit(f"past {BASE:,} attempts only Parquet of a multiple of it is made")
        base = generate(BASE, out, seed, ["parquet"])["parquet"]
        started = time.perf_counter()
        _copies(base, files["parquet"], n // BASE)
        stamps["parquet"].write_text(str(seed))
        print(f"made {n:,} attempts in {time.perf_counter() - started:.1f} s")
        return files
    con = duckdb.connect()
    params = {
        "n": n,
        "tasks": n,  # more than enough: each task has at least one row
        "seed": seed,
        "task_types": TASK_TYPES,
        "ladder": LADDER,
        "models": MODELS,
        "fleets": FLEETS,
    }
    started = time.perf_counter()
    con.execute(f"create temp table gen as {_GENERATE_SQL}", params)
    rows = con.execute("select count(*) from gen").fetchone()[0]
    assert rows == n, f"generated {rows} rows, wanted {n}"
    # COPY takes no bound parameters for its target; the paths are our own, quoted safely
    options = {"jsonl": "format json", "csv": "format csv, header", "parquet": "format parquet"}
    for fmt in wanted:
        target = "'" + str(files[fmt]).replace("'", "''") + "'"
        con.execute(f"copy gen to {target} ({options[fmt]})")
        stamps[fmt].write_text(str(seed))
    con.close()
    print(f"generated {n:,} attempts in {time.perf_counter() - started:.1f} s: ", end="")
    print(", ".join(f"{files[f].name} {files[f].stat().st_size / 1e6:,.0f} MB" for f in wanted))
    return files


COPY_SHIFT_DAYS = 400  # the BASE attempts span about 170 days; copies never share a day


def _copies(base: Path, target: Path, copies: int) -> None:
    import datetime as dt

    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    source = pq.ParquetFile(base)
    with pq.ParquetWriter(target, source.schema_arrow) as writer:
        for c in range(copies):
            suffix = "" if c == 0 else f"-c{c + 1}"
            shift = dt.timedelta(days=COPY_SHIFT_DAYS * c)
            for batch in source.iter_batches(batch_size=1_000_000):
                table = pa.Table.from_batches([batch])
                for name in ("task_id", "plan_id"):
                    i = table.schema.get_field_index(name)
                    table = table.set_column(
                        i, name, pc.binary_join_element_wise(table[name], suffix, "")
                    )
                i = table.schema.get_field_index("ts")
                when = pc.strptime(table["ts"], "%Y-%m-%dT%H:%M:%SZ", "s")
                moved = pc.strftime(pc.add(when, pa.scalar(shift)), "%Y-%m-%dT%H:%M:%SZ")
                table = table.set_column(i, "ts", moved.cast(table.schema.field("ts").type))
                writer.write_table(table.cast(source.schema_arrow))  # not null, as before


def _stamped(stamp: Path) -> str | None:
    return stamp.read_text() if stamp.exists() else None


# --- the measured runs, each in its own process ------------------------------------------


def _peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def _cpu_seconds() -> float:
    """CPU time of this process so far, all threads: less swayed by other work than wall time."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _ingest_of(src: Path):
    """The ingest package of the tree at `src`, whichever this tree is: tierwatch.ingest
    loaded from src/ingest (the installed name, but the copy's code, not the editable
    install's), or the top-level `ingest` of a tree from before the one-package layout."""
    if not (src / "tierwatch" / "cli").is_dir():
        sys.path.insert(0, str(src))
        return importlib.import_module("ingest")
    for room in ("tierwatch", "tierwatch.ingest"):
        folder = src / room.replace("tierwatch.", "")
        spec = importlib.util.spec_from_file_location(
            room, folder / "__init__.py", submodule_search_locations=[str(folder)]
        )
        sys.modules[room] = module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    return sys.modules["tierwatch.ingest"]


def _child(mode: str, db: str, path: str, fmt: str) -> dict:
    """One measured run; returns what the parent prints. Runs in a fresh interpreter."""
    if mode == "ingest":
        ingest = _ingest_of(Path(os.environ["TIERWATCH_BENCH_SRC"]))
        load_config = importlib.import_module(ingest.__name__ + ".config").load_config
        ingest_paths = importlib.import_module(ingest.__name__ + ".load").ingest_paths
        config = load_config(None)
        cpu, started = _cpu_seconds(), time.perf_counter()
        report = ingest_paths(db, [path], config)
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        if report.errors:
            raise SystemExit(f"ingest failed: {report.errors}")
        return {
            "seconds": seconds,
            "cpu_seconds": cpu,
            **report.totals,
            "rss_mb": _peak_rss_mb(),
            "code": str(Path(ingest.__file__).parent),
        }
    if mode == "bare":
        import duckdb

        reader = {"jsonl": "read_json", "csv": "read_csv", "parquet": "read_parquet"}[fmt]
        cpu, started = _cpu_seconds(), time.perf_counter()
        con = duckdb.connect(db)
        con.execute(f"create table t as select * from {reader}($path)", {"path": path})
        rows = con.execute("select count(*) from t").fetchone()[0]
        con.close()
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        return {"seconds": seconds, "cpu_seconds": cpu, "rows": rows, "rss_mb": _peak_rss_mb()}
    if mode == "pandas":
        import duckdb
        import pandas as pd

        cpu, started = _cpu_seconds(), time.perf_counter()
        frame = pd.read_json(path, lines=True)
        con = duckdb.connect(db)
        con.register("frame", frame)
        con.execute("create table t as select * from frame")
        rows = con.execute("select count(*) from t").fetchone()[0]
        con.close()
        seconds, cpu = time.perf_counter() - started, _cpu_seconds() - cpu
        return {"seconds": seconds, "cpu_seconds": cpu, "rows": rows, "rss_mb": _peak_rss_mb()}
    raise ValueError(mode)


def measure(
    mode: str, db: Path, path: Path, fmt: str, src: Path, repeat: int, fresh: bool = True
) -> dict:
    """Run one measured step `repeat` times, each in a new subprocess (importing ingest/ from
    `src`); the figures of the fastest run, the least disturbed by other work on the machine.
    """
    runs = []
    for _ in range(repeat):
        if fresh:
            for leftover in (db, db.with_name(db.name + ".wal")):
                leftover.unlink(missing_ok=True)
            shutil.rmtree(db.with_name(db.name + ".tmp"), ignore_errors=True)  # spill folder
        proc = subprocess.run(
            [sys.executable, __file__, "--child", mode, str(db), str(path), fmt],
            cwd=ROOT,
            env={**os.environ, "TIERWATCH_BENCH_SRC": str(src)},
            capture_output=True,
            text=True,
        )
        if proc.returncode != 0:
            why = proc.stderr[-3000:]
            if proc.returncode == -9:
                why += "(killed by SIGKILL: out of memory? see `dmesg | grep -i oom`)"
            raise SystemExit(f"{mode} {path.name} failed (exit {proc.returncode}):\n{why}")
        run = json.loads(proc.stdout.strip().splitlines()[-1])
        print(
            f"  {mode:<7} {fmt:<8} {run['seconds']:8.2f} s wall {run['cpu_seconds']:8.2f} s CPU"
            f"  peak RSS {run['rss_mb']:,.0f} MB"
        )
        runs.append(run)
    best = min(runs, key=lambda r: r["seconds"])
    return {**best, "all_seconds": [r["seconds"] for r in runs]}


def _verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def run(
    n: int,
    out: Path,
    seed: int,
    pandas: bool,
    src: Path,
    repeat: int,
    formats: list[str],
    new_bytes: bool,
) -> dict:
    out.mkdir(parents=True, exist_ok=True)
    files = generate(n, out, seed, formats)
    dbs = out / "db"
    dbs.mkdir(exist_ok=True)
    results: dict = {
        "attempts": n,
        "seed": seed,
        "src": str(src),
        "repeat": repeat,
        "load_average_before": os.getloadavg(),
        "formats": {},
    }

    for fmt, path in files.items():
        if fmt not in formats:
            continue
        bare = measure("bare", dbs / f"bare-{fmt}.duckdb", path, fmt, src, repeat)
        ingest = measure("ingest", dbs / f"ingest-{fmt}.duckdb", path, fmt, src, repeat)
        if ingest["loaded"] != n or ingest["rejected"] or bare["rows"] != n:
            raise SystemExit(f"{fmt}: expected {n} loaded, got {ingest} / bare {bare}")
        results["formats"][fmt] = {"bare": bare, "ingest": ingest}

    if "jsonl" in formats:
        jsonl, jsonl_db = files["jsonl"], dbs / "ingest-jsonl.duckdb"
        again = measure("ingest", jsonl_db, jsonl, "jsonl", src, repeat, fresh=False)
        results["reingest"] = again
        if new_bytes:
            # the same records under new bytes (one blank line more): no hash shortcut
            changed = out / f"attempts-{n}-again.jsonl"
            shutil.copyfile(jsonl, changed)
            with open(changed, "ab") as f:
                f.write(b"\n")
            results["reingest_new_bytes"] = measure(
                "ingest", jsonl_db, changed, "jsonl", src, repeat, fresh=False
            )
            changed.unlink()
        for key in ("reingest", "reingest_new_bytes"):
            r = results.get(key)
            if r and (r["duplicates"] != n or r["loaded"]):
                raise SystemExit(f"{key}: expected {n} duplicates and nothing loaded, got {r}")
        if pandas:
            results["pandas"] = measure(
                "pandas", dbs / "pandas-jsonl.duckdb", jsonl, "jsonl", src, repeat
            )
    for leftover in dbs.glob("*.duckdb*"):  # the files, their logs and spill folders
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink()
    results["load_average_after"] = os.getloadavg()
    return results


def table(results: dict) -> str:
    """The figures as a Markdown table, with each target and whether it is met.

    The verdict is on wall-clock time, as the targets are stated; CPU seconds (all threads)
    are shown beside it because they move less when other work shares the machine.
    """
    n = results["attempts"]
    rows = [
        "| measure | tierwatch (s) | baseline (s) | ratio | CPU s: tierwatch / baseline "
        "| CPU ratio | target | result |",
        "|---|---:|---:|---:|---:|---:|---|---|",
    ]

    def line(measure, ours, base, ratio_of, target, verdict):
        wall = cpu = cpus = ""
        if base is not None:
            wall = f"{ratio_of(ours['seconds'], base['seconds']):.2f}x"
            cpu = f"{ratio_of(ours['cpu_seconds'], base['cpu_seconds']):.2f}x"
            cpus = f"{ours['cpu_seconds']:.1f} / {base['cpu_seconds']:.1f}"
        else:
            cpus = f"{ours['cpu_seconds']:.1f}"
        base_s = f"{base['seconds']:.2f}" if base is not None else ""
        rows.append(
            f"| {measure} | {ours['seconds']:.2f} | {base_s} | {wall} | {cpus} | {cpu} | "
            f"{target} | {verdict} |"
        )

    readers = {"jsonl": "read_json", "csv": "read_csv", "parquet": "read_parquet"}
    for fmt, r in results["formats"].items():
        ratio = r["ingest"]["seconds"] / r["bare"]["seconds"]
        line(
            f"{fmt}: ingest vs bare `{readers[fmt]}`",
            r["ingest"],
            r["bare"],
            lambda ours, base: ours / base,
            f"<= {TARGETS[fmt]:g}x",
            _verdict(ratio <= TARGETS[fmt]),
        )
    if "pandas" in results:
        ingest, pandas = results["formats"]["jsonl"]["ingest"], results["pandas"]
        ratio = pandas["seconds"] / ingest["seconds"]
        line(
            "jsonl: ingest vs pandas.read_json(lines=True) + insert (ratio: pandas / ingest)",
            ingest,
            pandas,
            lambda ours, base: base / ours,
            f">= {PANDAS_TARGET:g}x",
            _verdict(ratio >= PANDAS_TARGET),
        )
    if "reingest" in results:
        again = results["reingest"]
        line(
            "jsonl: re-ingest of the loaded file",
            again,
            None,
            None,
            f"< {REINGEST_TARGET_S:g} s at 1M",
            _verdict(again["seconds"] < REINGEST_TARGET_S) if n == 1_000_000 else "(target at 1M)",
        )
    if "reingest_new_bytes" in results:
        line(
            "jsonl: same records under new bytes (all duplicates)",
            results["reingest_new_bytes"],
            None,
            None,
            "none",
            "",
        )
    rows.append("")
    rows.append("| peak RSS (MB) | tierwatch ingest | bare read | target | result |")
    rows.append("|---|---:|---:|---|---|")
    for fmt, r in results["formats"].items():
        rss = r["ingest"]["rss_mb"]
        verdict = _verdict(rss < RSS_TARGET_MB) if n == 10_000_000 else "(target at 10M)"
        rows.append(
            f"| {fmt} | {rss:,.0f} | {r['bare']['rss_mb']:,.0f} | < {RSS_TARGET_MB:,} MB "
            f"at 10M | {verdict} |"
        )
    if "pandas" in results:
        rows.append(f"| jsonl, pandas + insert | | {results['pandas']['rss_mb']:,.0f} | | |")
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=1_000_000, help="records per file")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "out", help="work folder")
    parser.add_argument("--seed", type=int, default=7, help="seed of the generated fleet")
    parser.add_argument(
        "--formats",
        nargs="+",
        choices=["jsonl", "csv", "parquet"],
        default=["jsonl", "csv", "parquet"],
        help="formats to generate and time; the re-ingest and pandas steps need jsonl",
    )
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each step; the fastest is kept"
    )
    parser.add_argument(
        "--no-pandas", action="store_true", help="skip the pandas baseline (slow at 10M)"
    )
    parser.add_argument(
        "--src",
        type=Path,
        default=ROOT,
        help="the source tree whose ingest/ is measured (default: this one); point it at a "
        "copy to measure a candidate change against the same data",
    )
    parser.add_argument(
        "--no-new-bytes",
        action="store_true",
        help="skip re-ingesting the records under new bytes (a full load's time at 10M)",
    )
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_child(*args.child)))
        return

    print(
        f"tierwatch ingest benchmark: {args.attempts:,} attempts, seed {args.seed}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}"
    )
    results = run(
        args.attempts,
        args.out,
        args.seed,
        pandas=not args.no_pandas,
        src=args.src,
        repeat=args.repeat,
        formats=args.formats,
        new_bytes=not args.no_new_bytes,
    )
    text = table(results)
    print()
    print(text)
    report = args.out / f"ingest-{args.attempts}.json"
    report.write_text(json.dumps(results, indent=2))
    before, after = results["load_average_before"], results["load_average_after"]
    print(
        f"\nload average (1 min) {before[0]:.1f} before, {after[0]:.1f} after: anything "
        f"well above 0 means other work shared the {os.cpu_count()} cores"
    )
    print(f"figures kept in {report}")


if __name__ == "__main__":
    main()
