"""Dashboard speed at scale: each page's first render, a rerun after a filter change and a
cached rerun, measured with Streamlit's AppTest on a store of N generated attempts.

    .venv/bin/python bench/bench_dashboard.py --attempts 10000000 [--db bench/out/dash.duckdb]

The store is generated directly in DuckDB with SQL (no log files), then its task-level facts
and its stored rollups are computed by ingest's own refresh_derived. The first figure is a
cold start (a fresh process: imports, the first connection, the prices registered); then,
per page, "first" is a render with an empty result cache, "filter" a rerun after choosing
one task type, "cached" a rerun with nothing changed. Targets (issue 4): first render < 1.5 s, rerun
after a filter change < 0.5 s, cached rerun < 0.3 s; on the What-if page a new table
(issue 11: within 0.5 s of an edit; AppTest cannot edit a data editor, so the edit is a
change of the table it starts from, which simulates a new table the same way). Every time
is also printed as a ratio to a bare `select count(*) from attempts` measured in the same
run. Not a test: figures go
to docs/performance.md by hand.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tierwatch.ingest.config import load_config  # noqa: E402
from tierwatch.ingest.store import ensure_ladder, open_store, refresh_derived  # noqa: E402

PAGES = [
    "views/overview.py",
    "views/planner_tiers.py",
    "views/escalations.py",
    "views/costs.py",
    "views/confidence.py",
    "views/drift.py",
    "views/retiering.py",
    "views/whatif.py",
]
TASK_TYPES = 24
DAYS = 90


def generate(db: Path, attempts: int) -> None:
    """About `attempts` executor attempts plus planner calls: 80/15/5 planner tiers, ~10%
    escalated one rung, ~2% skip a rung, over DAYS days and TASK_TYPES task types."""
    tasks = int(attempts / 1.35)  # ~1.12 executor attempts + ~0.23 planner call per task
    with open_store(db, read_only=False) as con:
        ensure_ladder(con, load_config(None))
        con.execute("set preserve_insertion_order = false")
        con.execute(
            """
            create or replace temp table plan as
            select
                i as n,
                'task-' || i as task_id,
                'type_' || (hash(i) % $types) as task_type,
                timestamp '2026-01-01' + to_seconds((hash(i * 7) % ($days * 86400))::bigint)
                    as ts,
                case when hash(i * 3) % 100 < 80 then 1
                     when hash(i * 3) % 100 < 95 then 2 else 3 end as planner_rank,
                (hash(i * 5) % 100)::bigint as roll,
                ['content', 'research', 'legal', 'ops'][1 + (hash(i * 11) % 4)::bigint] as fleet
            from range($tasks) as t(i)
            """,
            {"types": TASK_TYPES, "days": DAYS, "tasks": tasks},
        )
        con.execute(
            """
            insert into attempts (task_id, role, attempt, ts, task_type, tier, planner_tier,
                model, input_tokens, output_tokens, confidence, confidence_source, status,
                escalation_reason, fleet, plan_id, record_hash, file_id, line)
            with steps as (
                select p.*, s.step,
                    case
                        when s.step = 1 then p.planner_rank
                        when p.roll < 2 then least(p.planner_rank + 2, 3)
                        else least(p.planner_rank + 1, 3)
                    end as rank
                from plan as p
                cross join (values (1), (2)) as s(step)
                where s.step = 1 or (p.roll < 12 and p.planner_rank < 3)
            )
            select
                task_id, 'executor', step, ts + to_seconds(step * 30), task_type,
                ['haiku', 'sonnet', 'opus'][rank], ['haiku', 'sonnet', 'opus'][planner_rank],
                case when rank = 1 and ts >= timestamp '2026-02-15'
                     then 'claude-haiku-4-5' else ['claude-3-5-haiku', 'claude-sonnet-4',
                     'claude-opus-4'][rank] end,
                1500 + hash(n * 13) % 1000, 300 + hash(n * 17) % 400,
                (60 + hash(n * 19) % 40) / 100.0, 'self_report',
                case when step = 1 and roll < 12 then 'failed'
                     when roll between 12 and 14 then 'failed' else 'ok' end,
                case when step = 2 then 'reviewer_reject' end,
                fleet, 'plan-' || (n // 6), md5(task_id || step), 1, n * 2 + step
            from steps
            """
        )
        con.execute(
            """
            insert into attempts (task_id, role, attempt, ts, task_type, tier, model,
                input_tokens, output_tokens, status, fleet, record_hash, file_id, line)
            select task_id, 'planner', 1, ts, task_type, 'sonnet', 'claude-sonnet-4', 600, 150,
                   'ok', fleet, md5(task_id || 'p'), 1, n * 2
            from plan
            where n % 5 = 0
            """
        )
        con.execute("create or replace temp table touched as select task_id from plan")
        refresh_derived(con)
        con.execute("update meta set value = '1' where key = 'data_version'")
        con.execute("checkpoint")


def timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--attempts", type=int, default=10_000_000)
    parser.add_argument("--db", type=Path, default=ROOT / "bench" / "out" / "dashboard.duckdb")
    parser.add_argument("--regenerate", action="store_true")
    args = parser.parse_args()

    args.db.parent.mkdir(parents=True, exist_ok=True)
    if args.regenerate or not args.db.exists():
        args.db.unlink(missing_ok=True)
        seconds = timed(lambda: generate(args.db, args.attempts))
        print(f"generated {args.db} in {seconds:.0f} s")
    os.environ["TIERWATCH_DB"] = str(args.db)

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tierwatch.dashboard.settings import APP

    with duckdb.connect(str(args.db), read_only=True) as con:
        n = con.execute("select count(*) from attempts").fetchone()[0]
        types = [
            r[0] for r in con.execute("select distinct task_type from tasks limit 2").fetchall()
        ]
        baseline = statistics.median(
            timed(lambda: con.execute("select count(*) from attempts").fetchone()) for _ in range(5)
        )
    print(f"{n:,} attempts; baseline select count(*): {baseline * 1000:.1f} ms (warm, open)")
    print(f"{'page':<14} {'first':>8} {'filter':>8} {'cached':>8}   ratios to baseline")

    # a fresh server: nothing cached (includes importing the pages)
    cold = AppTest.from_file(str(APP), default_timeout=600)
    cold_s = timed(cold.run)
    print(f"cold start (fresh process, Overview): {cold_s:.2f} s")

    rows = []
    for page in PAGES:
        st.cache_data.clear()
        at = AppTest.from_file(str(APP), default_timeout=600)
        at.run()  # the session's entry run (Overview); not timed

        st.cache_data.clear()  # a first render: nothing cached for this data version
        first_s = timed(lambda at=at, page=page: at.switch_page(page).run())
        name = Path(page).stem
        if at.exception:
            print(f"{name:<14} failed: {at.exception[0].value.splitlines()[0]}")
            continue
        widget = at.multiselect(key="filter_task_types")
        filter_s = timed(lambda w=widget: w.set_value([types[0]]).run())
        cached_s = timed(at.run)
        rows.append((page, first_s, filter_s, cached_s))
        print(
            f"{name:<14} {first_s:8.2f} {filter_s:8.2f} {cached_s:8.2f}   "
            f"{first_s / baseline:,.0f}x {filter_s / baseline:,.0f}x {cached_s / baseline:,.0f}x"
        )
        if name == "whatif":  # an edit of the table: a new table to simulate (issue 11: < 0.5 s)
            radio = at.radio(key="whatif-start")
            edit_s = timed(lambda r=radio: r.set_value("observed").run())
            print(f"{'  table edit':<14} {edit_s:8.2f}   {edit_s / baseline:,.0f}x   target 0.5 s")
    worst = [max(r[i] for r in rows) for i in (1, 2, 3)]
    print(
        f"{'worst':<14} {worst[0]:8.2f} {worst[1]:8.2f} {worst[2]:8.2f}   targets 1.5 / 0.5 / 0.3 s"
    )


if __name__ == "__main__":
    main()
