"""Task facts and the task rollup computed over a lake by Apache Spark (local[2]) against
DuckDB over the same Parquet files, from the same SQL files, in the same run.

    .venv/bin/python bench/bench_spark.py [--attempts 1000000] [--out bench/out]

Builds a store of N attempts as bench_reports.py does, exports it as a lake
(`tierwatch export`, timed for the record), then, each in its own process:

  (a) DuckDB: views over the lake's Parquet files (hive partitioning), ingest/tasks.sql and
      ingest/rollups/task_rollup.sql run as `create table ... as` (both tables materialized)
  (b) Spark local[2]: ingest/spark_rollup.task_tables over the lake, both frames computed
      in full (`write.format("noop")`); the session's start-up timed apart

and prints the seconds and the ratio (b)/(a). With --cli it then times the whole command,
`tierwatch rollup` (the lake checked by the format's rules, every rollup, loaded into a
store): (c) a full run over the lake without its last day, then (d) the incremental run
after that day is exported into the lake, each against (a). Peak memory is DuckDB's process
RSS; Spark's is its JVM's, which the driver cannot see (its heap is capped by spark.driver.memory,
default 1 GB). Nothing here asserts a time. Needs pyspark and Java 17 (tierwatch[spark]).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

DUCKDB_CHILD = """
import json, resource, sys, time
from importlib import resources
import duckdb
lake, ladder = sys.argv[1], json.loads(sys.argv[2])
q = lambda text: "'" + text.replace("'", "''") + "'"  # a view takes no bound parameters
sql = lambda name: (resources.files("tierwatch.ingest") / name).read_text("utf-8")
t = time.perf_counter()
con = duckdb.connect()
parts = q(lake + "/attempts/**/*.parquet")
con.execute(f"create view attempts as select * from read_parquet({parts}, "
            "hive_partitioning = true, hive_types = {'day': date, 'fleet': varchar})")
con.execute("create table ladder (rank integer, name varchar)")
con.executemany("insert into ladder values (?, ?)", list(enumerate(ladder, start=1)))
try:
    con.execute("create view downstream_failures as select * from read_parquet("
                f"{q(lake + '/downstream_failures/**/*.parquet')}, hive_partitioning = true)")
except duckdb.IOException:  # a lake of no downstream failures
    con.execute("create view downstream_failures as select ''::varchar as task_id, "
                "now()::timestamp as ts where false")
con.execute("create view touched as select distinct task_id from attempts")
con.execute(sql("tasks.sql").replace("insert into tasks", "create table tasks as", 1))
con.execute("create view rollup_keys as select distinct day, task_type, fleet from tasks")
con.execute("create view tasks_in_scope as select * from tasks")
con.execute("create table task_rollup as " + sql("rollups/task_rollup.sql"))
rows = [con.execute(f"select count(*) from {t}").fetchone()[0] for t in ("tasks", "task_rollup")]
print(json.dumps({"seconds": time.perf_counter() - t, "rows": rows,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

SPARK_CHILD = """
import json, sys, time
lake, ladder = sys.argv[1], tuple(json.loads(sys.argv[2]))
t = time.perf_counter()
from pyspark.sql import SparkSession
spark = (SparkSession.builder.master("local[2]").config("spark.ui.enabled", "false")
         .config("spark.driver.bindAddress", "127.0.0.1").config("spark.driver.host", "127.0.0.1")
         .config("spark.sql.session.timeZone", "UTC").getOrCreate())
spark.sparkContext.setLogLevel("ERROR")
startup = time.perf_counter() - t
from tierwatch.ingest.spark_rollup import task_tables
t = time.perf_counter()
tasks, rollup = task_tables(spark, lake, ladder)
tasks.cache()
tasks.write.format("noop").mode("overwrite").save()
rollup.write.format("noop").mode("overwrite").save()
rows = [tasks.count(), rollup.count()]
seconds = time.perf_counter() - t
spark.stop()
print(json.dumps({"seconds": seconds, "startup": startup, "rows": rows}))
"""


def child(script: str, *args: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", script, *args], capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"a measured step failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--attempts", type=int, default=1_000_000)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "out")
    ap.add_argument(
        "--cli", action="store_true", help="also time tierwatch rollup, full and incremental"
    )
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    import shutil

    from bench_reports import build

    from tierwatch.ingest.lake import export_lake
    from tierwatch.ingest.store import open_store

    db = args.out / f"spark-{args.attempts}.duckdb"
    lake = args.out / f"lake-{args.attempts}"
    attempts, tasks, built = build(db, args.attempts)
    shutil.rmtree(lake, ignore_errors=True)
    with open_store(db) as con:
        ladder = [r[0] for r in con.execute("select name from ladder order by rank").fetchall()]
        started = time.perf_counter()
        export_lake(con, lake)
        exported = time.perf_counter() - started
    size = sum(p.stat().st_size for p in lake.rglob("*.parquet")) / 1e6
    print(f"{attempts:,} attempts, {tasks:,} tasks (store built in {built:.1f} s); "
          f"exported as a lake of {size:,.0f} MB in {exported:.2f} s")  # fmt: skip
    duck = child(DUCKDB_CHILD, str(lake), json.dumps(ladder))
    spark = child(SPARK_CHILD, str(lake), json.dumps(ladder))
    assert duck["rows"] == spark["rows"], (duck["rows"], spark["rows"])
    print(
        f"(a) DuckDB over the lake    {duck['seconds']:8.2f} s, peak RSS {duck['rss_mb']:,.0f} MB"
    )
    print(f"(b) Spark local[2]          {spark['seconds']:8.2f} s "
          f"(+ {spark['startup']:.1f} s session start-up)")  # fmt: skip
    print(f"ratio (b)/(a): {spark['seconds'] / duck['seconds']:.1f}x; rows (tasks, rollup) "
          f"{duck['rows'][0]:,}, {duck['rows'][1]:,} in both")  # fmt: skip
    if args.cli:
        rollup_cli(db, args.out, duck["seconds"])


def rollup_cli(db: Path, out: Path, baseline: float) -> None:
    """(c) `tierwatch rollup` over the lake of every day but the last, (d) again after the
    last day is exported into it (the incremental run), each in its own process."""
    import datetime as dt
    import shutil

    from tierwatch.ingest.lake import export_lake
    from tierwatch.ingest.store import open_store

    lake, served = out / "lake-cli", out / "served.duckdb"
    shutil.rmtree(lake, ignore_errors=True)
    served.unlink(missing_ok=True)
    with open_store(db) as con:
        last = con.execute("select max(cast(ts as date)) from attempts").fetchone()[0]
        export_lake(con, lake, until=last - dt.timedelta(days=1))
    spark_conf = ["--conf", "spark.ui.enabled=false", "--conf", "spark.driver.host=127.0.0.1",
                  "--conf", "spark.driver.bindAddress=127.0.0.1"]  # fmt: skip

    def run(label: str) -> None:
        started = time.perf_counter()
        done = subprocess.run(
            [sys.executable, "-m", "tierwatch", "rollup", "--lake", str(lake), "--db",
             str(served), *spark_conf],
            capture_output=True, text=True, cwd=ROOT,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        if done.returncode != 0:
            raise SystemExit(f"tierwatch rollup failed:\n{done.stderr[-3000:]}")
        said = done.stdout.splitlines()[0]
        print(f"{label} {seconds:8.2f} s ({seconds / baseline:.1f}x (a)): {said}")

    run("(c) tierwatch rollup, full       ")
    with open_store(db) as con:
        export_lake(con, lake, since=last)
    run("(d) tierwatch rollup, one day more")


if __name__ == "__main__":
    main()
