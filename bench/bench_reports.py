"""Benchmark every `tierwatch report` on a large store against a bare count in the same run.

    .venv/bin/python bench/bench_reports.py [--attempts 1000000] [--db PATH] [--repeat 5]

Builds N attempts (a seeded, deterministic fleet: 40 task types, three fleets, 90 days,
planner tiers near 80/15/5 with 5% not given, executor chains that escalate one rung or
retry, some skip-tier jumps, reviewer and planner calls, logged costs on some calls,
downstream failures) directly in a DuckDB file with SQL (generate_series and hash-based
pseudo-random columns), then refreshes the task-level facts for every task with
ingest.store.refresh_derived, as ingest does.

Then, on one read-only connection (the file already opened and each report run once to warm
it), times with the median of --repeat runs:
  - `select count(*) from attempts` (the baseline the targets are stated against) and, for
    reference, `select sum(input_tokens) from attempts` (a full column scan);
  - every report (queries.report.build_report, the call behind `tierwatch report`),
    including registering prices;
  - the whole set of reports one after another.
Each is printed in seconds and as a ratio against the count in the same run, next to the
first run of each report on the connection (which registers the prices). Targets
(issue 3): every report < 1 s warm and the whole set < 3 s at 10M attempts on 2 cores.

With --one-shot it also times each report as `tierwatch report NAME --json` in a new
process (start to exit: the way CI runs it), against a new Python process that opens the
same file and runs a hand-written DuckDB query computing the same headline numbers from the
raw attempts (HAND below): the ratio report / hand query carries issue 8's target (<= 1x),
and the whole set built in one new process against the slowest single report (< 3x).
Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tierwatch.ingest.config import load_config  # noqa: E402
from tierwatch.ingest.store import ensure_ladder, open_store, refresh_derived  # noqa: E402
from tierwatch.queries import Filters  # noqa: E402
from tierwatch.queries.report import REPORTS, build_report  # noqa: E402

REPORT_TARGET_S = 1.0
SET_TARGET_S = 3.0

# What a user without tierwatch would write for each report's headline numbers, straight over
# the raw attempts (article prices; a chain is a task's executor calls in attempt order)
_LADDER = "(values ('haiku', 1, 0.8, 4.0), ('sonnet', 2, 3.0, 15.0), ('opus', 3, 15.0, 75.0))"
_CHAINS = f"""
with l(name, rank, i, o) as {_LADDER},
chains as (
    select a.task_id, arg_min(a.task_type, a.attempt) as task_type,
        arg_min(a.planner_tier, a.attempt) filter (where a.planner_tier is not null)
            as planner_tier,
        arg_min(l.rank, a.attempt) as first_rank, arg_max(l.rank, a.attempt) as final_rank,
        arg_max(a.status, a.attempt) as final_status, count(*) as n,
        arg_max(a.input_tokens, a.attempt) as last_in, arg_max(a.output_tokens, a.attempt)
            as last_out
    from attempts as a join l on l.name = a.tier
    where a.role = 'executor'
    group by a.task_id
),
outcomes as (
    select c.*, c.final_status <> 'ok' or d.task_id is not null as failed
    from chains as c
    left join (select distinct task_id from downstream_failures) as d using (task_id)
)
"""
_SPEND = f"""(select sum(coalesce(a.cost_usd, ((a.input_tokens - coalesce(a.cached_input_tokens,
    0)) * l.i + coalesce(a.cached_input_tokens, 0) * l.i / 10 + a.output_tokens * l.o) / 1e6))
    from attempts as a join {_LADDER} as l(name, rank, i, o) on l.name = a.tier)"""
HAND = {
    "summary": _CHAINS
    + f"""select count(*), avg(failed::int), avg((final_rank > first_rank)::int),
        {_SPEND} from outcomes""",
    "tiers": _CHAINS
    + """select coalesce(planner_tier, '(not given)'), count(*),
        avg(failed::int) from outcomes group by 1""",
    "escalations": f"""with l(name, rank, i, o) as {_LADDER},
        steps as (select a.task_id, a.task_type, l.rank, lag(l.rank) over (
            partition by a.task_id order by a.attempt, a.ts) as prev
            from attempts as a join l on l.name = a.tier where a.role = 'executor')
        select task_type, count(distinct task_id) filter (where rank > prev),
            count(*) filter (where rank > prev) from steps group by 1""",
    "costs": _CHAINS
    + f"""select {_SPEND}, sum(last_in * 0.8 + last_out * 4) / 1e6,
        sum(last_in * 3 + last_out * 15) / 1e6, sum(last_in * 15 + last_out * 75) / 1e6
        from outcomes""",
    "calibration": """select tier, round(confidence, 1), count(*), avg((status = 'ok')::int)
        from attempts where role = 'executor' and confidence is not null group by all""",
    "drift": """select model, date_trunc('week', ts), count(*), avg((status <> 'ok')::int)
        from attempts where role = 'executor' group by all""",
    "recommendations": _CHAINS
    + """select task_type, first_rank, count(*), avg(failed::int),
        avg(last_in), avg(last_out) from outcomes group by all""",
    "verdict": _CHAINS
    + """select count(*) / count(distinct task_type), avg(failed::int),
        count(*) filter (where first_rank = 3) / count(*) from outcomes""",
}

# Every pseudo-random column is hash(task number, salt) modulo something: deterministic.
BUILD_TASKS = """
create or replace temp table bench_tasks as
with base as (
    select
        t,
        draw(t, 1, 100) as tier_draw,
        draw(t, 2, 100) as chain_draw,
        draw(t, 3, 100) as role_draw
    from generate_series(0, $tasks - 1) as g(t)
)
select
    t,
    'task_' || t as task_id,
    'type_' || lpad(cast(draw(t, 4, 40) as varchar), 2, '0') as task_type,
    ['content', 'research', 'ops'][1 + draw(t, 5, 3)] as fleet,
    'plan_' || (t // 6) as plan_id,
    timestamp '2026-01-01' + to_days(cast(draw(t, 6, 90) as integer))
        + to_seconds(cast(draw(t, 7, 86000) as bigint)) as started,
    case when tier_draw < 80 then 1 when tier_draw < 95 then 2 else 3 end as first_rank,
    draw(t, 8, 100) < 5 as no_planner_tier,
    -- chain length: 85% one call, 10% two, 5% three
    case when chain_draw < 85 then 1 when chain_draw < 95 then 2 else 3 end as n_exec,
    draw(t, 9, 100) < 30 as retry_first,           -- a second call on the same tier
    draw(t, 10, 100) < 10 as skip_tier,            -- a jump of two rungs
    role_draw < 10 as reviewed,
    role_draw >= 97 as planned,
    draw(t, 11, 100) < 2 as downstream_failure
from base
"""

BUILD_ATTEMPTS = """
insert into attempts
with calls as (
    -- executor steps 1..n_exec, then a reviewer call and a planner call where drawn
    select b.*, 'executor' as role, s.step as attempt
    from bench_tasks as b, generate_series(1, 3) as s(step)
    where s.step <= b.n_exec
    union all
    select b.*, 'reviewer', 1 from bench_tasks as b where reviewed
    union all
    select b.*, 'planner', 1 from bench_tasks as b where planned
),

ranked as (
    select
        *,
        case
            when role = 'reviewer' then 2
            when role = 'planner' then 3
            when attempt = 1 then first_rank
            when attempt = 2 and retry_first then first_rank
            when skip_tier then least(first_rank + 2 * (attempt - 1), 3)
            else least(first_rank + attempt - 1, 3)
        end as rank,
        draw(t * 7 + attempt, 12, 3000) + 500 as input_tokens,
        draw(t * 7 + attempt, 13, 1000) + 100 as output_tokens
    from calls
)

select
    task_id,
    role,
    attempt,
    started + to_minutes(attempt) as ts,
    task_type,
    ['haiku', 'sonnet', 'opus'][rank] as tier,
    case when no_planner_tier then null else ['haiku', 'sonnet', 'opus'][first_rank] end
        as planner_tier,
    ['claude-haiku-', 'claude-sonnet-', 'claude-opus-'][rank]
        || case when started < timestamp '2026-02-15' then '1' else '2' end as model,
    input_tokens,
    output_tokens,
    case when draw(t * 7 + attempt, 14, 5) = 0 then input_tokens // 2 end as cached_input_tokens,
    case when draw(t * 7 + attempt, 15, 10) = 0 then input_tokens / 1e6 end as cost_usd,
    (draw(t * 7 + attempt, 16, 100)) / 100.0 as confidence,
    null as confidence_label,
    'self_report' as confidence_source,
    case
        when role <> 'executor' then 'ok'
        when attempt < n_exec then 'failed'
        when draw(t, 17, 100) < 8 then 'failed'
        else 'ok'
    end as status,
    case when attempt > 1 then 'reviewer_reject' end as escalation_reason,
    case when role = 'executor' and attempt = n_exec then downstream_failure end
        as downstream_failure,
    plan_id,
    fleet,
    null as agent,
    null as latency_ms,
    null as extra,
    cast(hash(t, attempt, role) as varchar) as record_hash,
    1 as file_id,
    row_number() over () as line
from ranked
"""


def build(db: Path, attempts: int) -> tuple[int, int, float]:
    """A store at `db` with about `attempts` attempts; (attempts, tasks, seconds)."""
    started = time.perf_counter()
    if db.exists():
        db.unlink()
    # expected calls per task: 1.20 executor + 0.10 reviewer + 0.03 planner = 1.33
    tasks = max(1, round(attempts / 1.33))
    with open_store(db, read_only=False) as con:
        ensure_ladder(con, load_config(None))
        con.execute(
            "create or replace temp macro draw(n, salt, m) as cast(hash(n, salt) % m as bigint)"
        )
        con.execute(BUILD_TASKS, {"tasks": tasks})
        con.execute(BUILD_ATTEMPTS)
        con.execute("create temp table touched as select task_id from bench_tasks")
        refresh_derived(con)
        n_attempts = con.execute("select count(*) from attempts").fetchone()[0]
        n_tasks = con.execute("select count(*) from tasks").fetchone()[0]
        con.execute("checkpoint")
    return n_attempts, n_tasks, time.perf_counter() - started


def timed(fn, repeat: int) -> float:
    """Median wall-clock seconds of `repeat` calls of fn."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument(
        "--db", type=Path, default=None, help="default: /tmp/bench_reports_N.duckdb"
    )
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--reuse", action="store_true", help="reuse --db if it exists")
    parser.add_argument("--reports", nargs="*", choices=list(REPORTS), help="default: all")
    parser.add_argument(
        "--one-shot",
        action="store_true",
        help="also time each report as a new `tierwatch report` process against a new "
        "process running a hand-written query over the raw attempts",
    )
    args = parser.parse_args()
    db = args.db or Path(f"/tmp/bench_reports_{args.attempts}.duckdb")

    if args.reuse and db.exists():
        print(f"reusing {db}")
    else:
        n_attempts, n_tasks, seconds = build(db, args.attempts)
        print(f"built {db}: {n_attempts:,} attempts, {n_tasks:,} tasks in {seconds:.1f} s")

    config = load_config(None)
    filters = Filters()
    print(
        f"python {platform.python_version()}, {os.cpu_count()} cpu(s), "
        f"duckdb {__import__('duckdb').__version__}, repeat {args.repeat} (median)"
    )
    with open_store(db, read_only=True) as con:
        size = con.execute("select count(*) from attempts").fetchone()[0]
        count = timed(lambda: con.execute("select count(*) from attempts").fetchone(), args.repeat)
        scan = timed(
            lambda: con.execute("select sum(input_tokens) from attempts").fetchone(), args.repeat
        )
        names, failed, first = [], {}, {}
        for name in args.reports or list(REPORTS):  # warm: each report runs once first
            try:
                started = time.perf_counter()
                build_report(con, name, config, filters)
                first[name] = time.perf_counter() - started
                names.append(name)
            except Exception as e:  # a broken report is shown, the others still timed
                failed[name] = f"{type(e).__name__}: {e}"
        rows = []
        for name in names:
            seconds = timed(lambda name=name: build_report(con, name, config, filters), args.repeat)
            rows.append((name, seconds))
        whole = timed(
            lambda: [build_report(con, name, config, filters) for name in names], args.repeat
        )

    print(f"\n{size:,} attempts; baseline select count(*) {count * 1000:.2f} ms, "
          f"select sum(input_tokens) {scan * 1000:.1f} ms")  # fmt: skip
    print(
        f"{'report':<16} {'seconds':>8} {'x count(*)':>11} {'x sum scan':>11}  target"
        f"        first run (builds this connection's rollups)"
    )
    for name, seconds in rows:
        verdict = "ok" if seconds < REPORT_TARGET_S else "OVER"
        print(
            f"{name:<16} {seconds:8.3f} {seconds / count:11.0f} {seconds / scan:11.1f}"
            f"  < {REPORT_TARGET_S:.0f} s {verdict:<4}  {first[name]:8.3f}"
        )
    for name, error in failed.items():
        print(f"{name:<16} FAILED, not timed: {error}")
    verdict = "ok" if whole < SET_TARGET_S else "OVER"
    print(
        f"{'whole set':<16} {whole:8.3f} {whole / count:11.0f} {whole / scan:11.1f}"
        f"  < {SET_TARGET_S:.0f} s {verdict}"
    )
    if args.one_shot:
        one_shot(db, [n for n in names if n in HAND], args.repeat)


def _process(argv: list[str]) -> float:
    """Wall-clock seconds of a new process, start to exit."""
    started = time.perf_counter()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    return time.perf_counter() - started


def one_shot(db: Path, names: list[str], repeat: int) -> None:
    """Each report as a new `tierwatch report` process against a new process running its
    hand-written query over the raw attempts; the whole set built in one new process against
    the slowest single report's process."""
    python = sys.executable
    print(f"\none-shot processes (start to exit, median of {repeat}), against a new process "
          "running the hand-written query over the raw attempts:")  # fmt: skip
    print(f"{'report':<16} {'tierwatch s':>11} {'hand query s':>12} {'ratio':>6}  target <= 1x")
    worst = 0.0
    for name in names:
        report = timed(
            lambda name=name: _process(
                [python, "-m", "tierwatch", "report", name, "--db", str(db), "--json"]
            ),
            repeat,
        )
        hand = timed(
            lambda name=name: _process(
                [python, "-c", "import duckdb, sys; con = duckdb.connect(sys.argv[1], "
                 "read_only=True); con.execute(sys.argv[2]).fetchall()", str(db), HAND[name]]
            ),
            repeat,
        )  # fmt: skip
        worst = max(worst, report)
        verdict = "met" if report <= hand else "MISSED"
        print(f"{name:<16} {report:11.2f} {hand:12.2f} {report / hand:6.2f}  {verdict}")
    # the whole set in one new process, as a script that builds every report would
    every = (
        "import sys; from tierwatch.ingest.config import load_config; "
        "from tierwatch.ingest.store import open_store; from tierwatch.queries import Filters; "
        "from tierwatch.queries.report import build_report\n"
        "with open_store(sys.argv[1]) as con:\n"
        "    [build_report(con, n, load_config(None), Filters()) for n in sys.argv[2:]]"
    )
    whole = timed(lambda: _process([python, "-c", every, str(db), *names]), repeat)
    verdict = "met" if whole < 3 * worst else "MISSED"
    print(
        f"{'the whole set':<16} {whole:11.2f}  in one new process: {whole / worst:.2f}x the "
        f"slowest single report's process ({worst:.2f} s); target < 3x: {verdict}"
    )


if __name__ == "__main__":
    main()
