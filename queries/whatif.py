"""The what-if model: what a routing table would cost and how often it would fail, from the
evidence in the store, with 95% intervals and the source of every estimate.

The model (docs/metrics.md, "What-if"):
- A task of type t sent to tier s first runs a *stage* on s (one or more attempts on that
  tier); a failed stage escalates one rung up, until the row's ceiling (the top of the
  ladder unless the table says otherwise); a failed stage on the ceiling is a final failure.
  An accepted task may still fail downstream.
- For every task type x tier x entry ('first': the tier the task started on; 'escalated':
  reached by escalation) the store gives stages, failed stages, attempts and first-attempt
  failures (queries/tier_stage_evidence.sql). Escalated stages are kept apart because the
  tasks that reach a tier by escalation are the harder ones.
- A rate is estimated from the type's own stages, shrunk toward the fleet's rate on that
  tier and entry by `prior_tasks` pseudo-tasks: (x + m p) / (n + m). Without stages of its
  own on that entry it borrows, in this order, the type's stages of the other entry on the
  same tier, then the other task types' stages on the tier (the fleet rate with only the m
  pseudo-tasks behind it: a wide interval). A tier no task ever ran on is unknown, and so is
  everything that needs it: an unknown is never shown as a number.
- Intervals: every rate's Jeffreys posterior Beta(x' + 1/2, n' - x' + 1/2) over its shrunk
  counts, drawn DRAWS times (each rate with its own seed, so one rate has the same draws in
  every table), pushed through the cascade; the 2.5th and 97.5th percentiles. Volumes,
  tokens and attempts per stage are taken as known.
- One call of a task type on a tier costs its tasks' mean last-attempt tokens at the tier's
  price (task_type_unit_costs.sql, the counterfactual's pricing); planner and reviewer calls
  are the type's realized overhead per task, the same under every table.
"""

from __future__ import annotations

import collections
import csv
import dataclasses
import functools
import io
import json
import math
import os
import zlib

import duckdb
import numpy as np

from tierwatch.ingest.config import Config
from tierwatch.queries import routing_table, run
from tierwatch.queries.costs import DAYS_PER_MONTH, OVERHEAD_ROLES, realized_spend
from tierwatch.queries.downstream import downstream_reporting
from tierwatch.queries.filters import Filters, QueryError

DRAWS = 2000
ENTRIES = ("first", "escalated")
LOW, HIGH = 2.5, 97.5  # percentiles of the 95% interval


# each kind of rate: what it counts of what, and the words of its basis
RATE_KINDS = {
    "stage": ("failures", "stages", "{x} of {n} {entry} stages of {who} on {tier} failed"),
    "first_try": (
        "first_try_failures",
        "stages",
        "{x} of {n} {entry} stages of {who} on {tier} failed their first attempt",
    ),
    "downstream": (
        "downstream_failures",
        "accepted",
        "{x} of {n} answers of {who} accepted on {tier} failed downstream",
    ),
}


@dataclasses.dataclass(frozen=True)
class Rate:
    """One estimated probability, with what it rests on."""

    point: float | None  # None: unknown
    alpha: float  # the Jeffreys posterior over the shrunk counts
    beta: float
    source: str  # "observed", "borrowed" or "unknown"
    basis: str  # in words: whose stages, how many
    n: int  # the stages it rests on (0 when borrowed from other task types)
    key: str  # seeds its draws

    @property
    def known(self) -> bool:
        return self.point is not None

    @functools.cached_property
    def draws(self) -> np.ndarray:
        """DRAWS values of the posterior, made once (read-only: shared by every use)."""
        rng = np.random.default_rng(zlib.crc32(self.key.encode("utf-8")))
        values = rng.beta(self.alpha, self.beta, DRAWS)
        values.flags.writeable = False
        return values

    @functools.cached_property
    def _interval(self) -> list[float]:
        return bounds(self.draws)

    def interval(self) -> list[float] | None:
        return list(self._interval) if self.known else None


UNKNOWN = Rate(None, 1.0, 1.0, "unknown", "", 0, "")


@dataclasses.dataclass(frozen=True)
class Route:
    """One row of a proposed routing table: where a task type starts, and how high its
    escalations may go (None: the top of the ladder)."""

    task_type: str
    tier: str
    ceiling: str | None = None


@dataclasses.dataclass
class TypeFacts:
    tasks: int
    first_pass_failures: int
    final_failures: int
    downstream_failures: int
    failures: int
    observed_tier: str
    realized_usd: float
    overhead_usd: float


class Evidence:
    """Everything the model reads for one selection, loaded once."""

    def __init__(self, con: duckdb.DuckDBPyConnection, config: Config, filters: Filters):
        params = filters.params()
        self.config = config
        self.ladder = list(config.ladder)
        self.prior_tasks = float(config.settings["prior_tasks"])
        self.failure_cost = config.failure_cost_usd
        spend = realized_spend(con, filters)
        self.days = spend["days"]
        self.first_day, self.last_day = spend["first_day"], spend["last_day"]
        usd: dict[str, float] = {}
        overhead: dict[str, float] = {}
        for r in spend["rows"]:
            usd[r["task_type"]] = usd.get(r["task_type"], 0.0) + r["usd"]
            if r["role"] in OVERHEAD_ROLES:
                overhead[r["task_type"]] = overhead.get(r["task_type"], 0.0) + r["usd"]
        self.types: dict[str, TypeFacts] = {
            r["task_type"]: TypeFacts(
                tasks=r["tasks"],
                first_pass_failures=r["first_pass_failures"] or 0,
                final_failures=r["final_failures"] or 0,
                downstream_failures=r["downstream_failures"] or 0,
                failures=r["failures"] or 0,
                observed_tier=r["observed_tier"],
                realized_usd=usd.get(r["task_type"], 0.0),
                overhead_usd=overhead.get(r["task_type"], 0.0),
            )
            for r in run(con, "whatif_task_types", params)
        }
        self.stages: dict[tuple[str, str, str], dict] = {
            (r["task_type"], r["tier"], r["entry"]): {
                k: (r[k] or 0)
                for k in (
                    "stages",
                    "attempts",
                    "failures",
                    "first_try_failures",
                    "accepted",
                    "downstream_failures",
                )
            }
            for r in run(con, "tier_stage_evidence", params)
        }
        self.unit: dict[tuple[str, str], float | None] = {
            (r["task_type"], r["tier"]): r["unit_cost_usd"]
            for r in run(con, "task_type_unit_costs", params)
        }
        self.by_tier: dict[str, list[tuple[str, dict]]] = {}
        for (_, tier, entry), stage in self.stages.items():
            self.by_tier.setdefault(tier, []).append((entry, stage))
        self._rates: dict[tuple, Rate] = {}
        self.cascades: dict[tuple, Outcome] = {}
        # fleets whose logs never say whether an output was found wrong downstream: their
        # tasks count as not failed downstream, which the downstream rates then leave out
        self.downstream_reporting = downstream_reporting(con, params)

    # -- volumes ---------------------------------------------------------------------------

    def per_day(self, task_type: str) -> float:
        return self.types[task_type].tasks / self.days if self.days else 0.0

    def unit_cost(self, task_type: str, tier: str) -> float | None:
        return self.unit.get((task_type, tier))

    # -- rates -----------------------------------------------------------------------------

    def _counts(self, task_type: str | None, tier: str, entries, numerator: str, of: str):
        if task_type is None:
            rows = [s for e, s in self.by_tier.get(tier, ()) if e in entries]
        else:
            rows = [self.stages[(task_type, tier, e)] for e in entries
                    if (task_type, tier, e) in self.stages]  # fmt: skip
        return sum(s[numerator] for s in rows), sum(s[of] for s in rows)

    def _estimate(self, task_type, tier, entries, numerator, of, words) -> Rate:
        """The rate `numerator / of` on `tier` over `entries`: own stages shrunk toward the
        fleet's, else the fleet's alone (borrowed), else unknown. `words` says what was
        counted, with {x}, {n}, {entry}, {who} and {tier} to fill in."""
        m = self.prior_tasks
        fleet_x, fleet_n = self._counts(None, tier, entries, numerator, of)
        if fleet_n == 0:
            return UNKNOWN
        prior = fleet_x / fleet_n
        x, n = self._counts(task_type, tier, entries, numerator, of)
        key = f"{task_type}|{tier}|{','.join(entries)}|{numerator}/{of}"
        shrunk_x, shrunk_n = x + m * prior, n + m
        alpha, beta = shrunk_x + 0.5, shrunk_n - shrunk_x + 0.5
        point = alpha / (alpha + beta)  # the posterior mean: the mean of the draws
        entry = " and ".join(entries)
        if n:
            basis = words.format(x=f"{x:,}", n=f"{n:,}", entry=entry, who=task_type, tier=tier)
            return Rate(point, alpha, beta, "observed", basis, n, key)
        fleet = words.format(
            x=f"{fleet_x:,}", n=f"{fleet_n:,}", entry=entry, who="all task types", tier=tier
        )
        basis = f"none of {task_type} on {tier}; borrowed: {fleet}, as {m:g} pseudo-tasks"
        return Rate(point, alpha, beta, "borrowed", basis, 0, key)

    def stage_failure(self, task_type: str, tier: str, entry: str) -> Rate:
        """P(a stage on `tier` entered by `entry` fails) for the type."""
        return self._rate("stage", task_type, tier, entry)

    def first_try_failure(self, task_type: str, tier: str) -> Rate:
        """P(the first attempt of a task that starts on `tier` fails): first-pass failure."""
        return self._rate("first_try", task_type, tier, "first")

    def downstream(self, task_type: str, tier: str) -> Rate:
        """P(an answer accepted on `tier` fails downstream) for the type (both entries)."""
        return self._rate("downstream", task_type, tier, None)

    def _rate(self, kind: str, task_type: str, tier: str, entry: str | None) -> Rate:
        key = (kind, task_type, tier, entry)
        if key not in self._rates:
            numerator, of, words = RATE_KINDS[kind]
            self._rates[key] = (
                self._estimate(task_type, tier, ENTRIES, numerator, of, words)
                if entry is None
                else self._pick(task_type, tier, entry, numerator, of, words)
            )
        return self._rates[key]

    def _pick(self, task_type, tier, entry, numerator, of, words) -> Rate:
        other = "escalated" if entry == "first" else "first"
        own = self.stages.get((task_type, tier, entry), {}).get(of, 0)
        if own:
            return self._estimate(task_type, tier, (entry,), numerator, of, words)
        mine_other = self.stages.get((task_type, tier, other), {}).get(of, 0)
        if mine_other:
            rate = self._estimate(task_type, tier, (other,), numerator, of, words)
            caution = (
                " (escalated tasks are the harder ones: likely pessimistic)"
                if other == "escalated"
                else " (escalated tasks are the harder ones: likely optimistic)"
            )
            return dataclasses.replace(
                rate,
                source="borrowed",
                basis=f"no {entry} stages of {task_type} on {tier}: {rate.basis}{caution}",
            )
        rate = self._estimate(task_type, tier, (entry,), numerator, of, words)
        if rate.known:
            return rate
        return self._estimate(task_type, tier, (other,), numerator, of, words)

    def attempts_per_stage(self, task_type: str, tier: str, entry: str) -> float:
        """Mean attempts of a stage: the type's own on that entry, else on the other entry,
        else the fleet's on the tier, else one."""
        for entries, who in (((entry,), task_type), (ENTRIES, task_type), (ENTRIES, None)):
            attempts, stages = self._counts(who, tier, entries, "attempts", "stages")
            if stages:
                return attempts / stages
        return 1.0


_LOADED: collections.OrderedDict = collections.OrderedDict()
LOADED_KEPT = 8


def evidence(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters) -> Evidence:
    """The Evidence of this store, data, config and selection, loaded once: the simulate,
    frontier and optimize reports of one page (or one CI script) read the same. Keyed by the
    store's file (its path, size and time written) and data version, so new data or another
    store loads afresh."""
    from tierwatch.queries import data_key

    file = con.execute(
        "select file from pragma_database_list where name = current_database()"
    ).fetchone()[0]
    if file is None:  # an in-memory store: nothing tells two apart
        return Evidence(con, config, filters)
    try:  # a file replaced by another store with the same counts is not the same data
        stat = os.stat(file)
    except OSError:
        return Evidence(con, config, filters)
    key = (file, stat.st_mtime_ns, stat.st_size, data_key(con), repr(filters), repr(config))
    if key in _LOADED:
        _LOADED.move_to_end(key)
        return _LOADED[key]
    loaded = Evidence(con, config, filters)
    _LOADED[key] = loaded
    while len(_LOADED) > LOADED_KEPT:
        _LOADED.popitem(last=False)
    return loaded


# -- the cascade -----------------------------------------------------------------------------


@dataclasses.dataclass
class Outcome:
    """One task type under one route: per task, at the point estimates and as draws."""

    cost: float | None  # executor calls per task (USD)
    first_pass: float | None
    final: float | None
    downstream: float | None
    escalations: float | None
    draws: dict[str, np.ndarray] | None
    rates: list[dict]  # the estimates it used, with their sources

    @property
    def known(self) -> bool:
        return self.cost is not None and self.final is not None

    @property
    def failure(self) -> float | None:
        return None if not self.known else self.final + self.downstream


def cascade(
    ev: Evidence,
    route: Route,
    first_stage_failure: float | None = None,
    optimistic: bool = False,
) -> Outcome:
    """`_cascade`, computed once per route and evidence (the optimiser, the frontier and the
    plan ask for the same routes again and again)."""
    key = (route, first_stage_failure, optimistic)
    if key not in ev.cascades:
        ev.cascades[key] = _cascade(ev, route, first_stage_failure, optimistic)
    return ev.cascades[key]


def _cascade(
    ev: Evidence,
    route: Route,
    first_stage_failure: float | None,
    optimistic: bool,
) -> Outcome:
    """Expected cost and failure of a task of `route.task_type` sent to `route.tier` first.
    With `first_stage_failure`, that rate replaces the estimate of the first stage's; with
    `optimistic`, every rate is at the low end of its 95% interval (point estimates only:
    what the exploration plan asks whether a move could pay, and solves its break-even
    with)."""
    ladder = ev.ladder
    start = ladder.index(route.tier)
    top = ladder.index(route.ceiling) if route.ceiling else len(ladder) - 1
    if top < start:
        raise QueryError(
            f"{route.task_type}: the ceiling {route.ceiling!r} is below the tier "
            f"{route.tier!r}; a ceiling is the highest tier escalations may reach"
        )
    t = route.task_type
    used: list[dict] = []
    first_try = ev.first_try_failure(t, route.tier)
    used.append(_described(first_try, route.tier, "first-pass failure"))
    rates = []
    for i in range(start, top + 1):
        tier = ladder[i]
        entry = "first" if i == start else "escalated"
        q, d = ev.stage_failure(t, tier, entry), ev.downstream(t, tier)
        used.append(_described(q, tier, f"stage failure ({entry})"))
        used.append(_described(d, tier, "downstream failure of accepted answers"))
        rates.append((tier, entry, q, d))
    units = [ev.unit_cost(t, tier) for tier, *_ in rates]
    known = all(q.known and d.known for _, _, q, d in rates) and first_try.known
    if not known:
        return Outcome(None, None, None, None, None, None, used)

    def run_cascade(pick, first=None):
        reach, cost, downstream, escalations = 1.0, 0.0, 0.0, 0.0
        final = 0.0
        for i, ((tier, entry, q, d), unit) in enumerate(zip(rates, units, strict=True)):
            qv, dv = (pick(q) if first is None or i else first), pick(d)
            if unit is not None:
                cost = cost + reach * ev.attempts_per_stage(t, tier, entry) * unit
            downstream = downstream + reach * (1 - qv) * dv
            if tier == rates[-1][0]:
                final = reach * qv
            else:
                escalations = escalations + reach * qv
            reach = reach * qv
        return cost, final, downstream, escalations

    priced = all(u is not None for u in units)
    pick = (lambda r: r.interval()[0]) if optimistic else (lambda r: r.point)
    cost, final, downstream, escalations = run_cascade(pick, first_stage_failure)
    if first_stage_failure is not None or optimistic:
        return Outcome(cost if priced else None, None, final, downstream, escalations, None, used)
    d_cost, d_final, d_down, d_esc = run_cascade(lambda r: r.draws)
    draws = {
        "cost": np.broadcast_to(d_cost, (DRAWS,)) if priced else None,
        "first_pass": first_try.draws,
        "final": np.broadcast_to(d_final, (DRAWS,)),
        "downstream": np.broadcast_to(d_down, (DRAWS,)),
    }
    return Outcome(
        cost if priced else None,
        first_try.point,
        final,
        downstream,
        escalations,
        draws,
        used,
    )


def _described(rate: Rate, tier: str, what: str) -> dict:
    return {
        "tier": tier,
        "estimate": what,
        "source": rate.source,
        "rate": rate.point,
        "rate_ci": rate.interval(),
        "stages": rate.n,
        "basis": rate.basis,
    }


def bounds(values: np.ndarray) -> list[float]:
    """The 2.5th and 97.5th percentiles of `values` (the draws at those ranks)."""
    ranks = [round(LOW / 100 * (len(values) - 1)), round(HIGH / 100 * (len(values) - 1))]
    low, high = np.partition(values, ranks)[ranks]
    return [float(low), float(high)]


def interval(values: np.ndarray | None) -> list[float] | None:
    return None if values is None else bounds(values)


def per_month(per_day: float | None) -> float | None:
    return None if per_day is None else per_day * DAYS_PER_MONTH


# -- a whole table ---------------------------------------------------------------------------


def observed_table(ev: Evidence) -> dict[str, Route]:
    """The table the fleet runs: each type on the tier the planner sent it to most."""
    return {t: Route(t, f.observed_tier) for t, f in ev.types.items()}


def _realized(ev: Evidence, task_type: str) -> dict:
    f = ev.types[task_type]
    return {
        "realized_tier": f.observed_tier,
        "realized_usd_per_day": f.realized_usd / ev.days if ev.days else None,
        "realized_first_pass_failure_rate": f.first_pass_failures / f.tasks,
        "realized_final_failure_rate": f.final_failures / f.tasks,
        "realized_downstream_failure_rate": f.downstream_failures / f.tasks,
        "realized_failure_rate": f.failures / f.tasks,
    }


def _rates(name: str, point: float | None, draws: np.ndarray | None) -> dict:
    return {
        f"{name}_rate": point,
        f"{name}_rate_ci": interval(draws) if draws is not None else None,
    }


def simulate(ev: Evidence, table: dict[str, Route]) -> dict:
    """Every task type of the selection under `table` (types it leaves out stay on their
    observed tier), and the fleet: per day, per month, failure rates, with intervals."""
    rows = []
    fleet_cost = np.zeros(DRAWS)
    fleet_failed = np.zeros(DRAWS)
    fleet_first = np.zeros(DRAWS)
    fleet_final = np.zeros(DRAWS)
    fleet_down = np.zeros(DRAWS)
    fleet_exec = np.zeros(DRAWS)
    point = {"cost": 0.0, "exec": 0.0, "failed": 0.0, "first": 0.0, "final": 0.0, "down": 0.0}
    volume = 0.0
    unknown = []
    for name in sorted(ev.types, key=lambda t: (-ev.types[t].tasks, t)):
        route = table.get(name) or Route(name, ev.types[name].observed_tier)
        facts = ev.types[name]
        vol = ev.per_day(name)
        overhead = facts.overhead_usd / facts.tasks
        out = cascade(ev, route)
        row = {
            "task_type": name,
            "tier": route.tier,
            "ceiling": route.ceiling or ev.ladder[-1],
            "in_table": name in table,
            "changed": route.tier != facts.observed_tier
            or route.ceiling not in (None, ev.ladder[-1]),
            "tasks": facts.tasks,
            "tasks_per_day": vol,
            "known": out.known,
        }
        if out.known and out.cost is not None:
            per_day = vol * (out.cost + overhead)
            cost_draws = vol * (out.draws["cost"] + overhead)
            row |= {
                "executor_cost_per_task_usd": out.cost,
                "cost_per_task_usd": out.cost + overhead,
                "usd_per_day": per_day,
                "usd_per_day_ci": interval(cost_draws),
                "usd_per_month": per_month(per_day),
                "failure_adjusted_usd_per_day": per_day + ev.failure_cost * vol * out.downstream,
            }
        else:
            row |= {
                "executor_cost_per_task_usd": None,
                "cost_per_task_usd": None,
                "usd_per_day": None,
                "usd_per_day_ci": None,
                "usd_per_month": None,
                "failure_adjusted_usd_per_day": None,
            }
        if out.known:
            failed = out.draws["final"] + out.draws["downstream"]
            row |= _rates("first_pass_failure", out.first_pass, out.draws["first_pass"])
            row |= _rates("final_failure", out.final, out.draws["final"])
            row |= _rates("downstream_failure", out.downstream, out.draws["downstream"])
            row |= _rates("failure", out.failure, failed)
            row["escalations_per_task"] = out.escalations
            row["downstream_failures_per_day"] = vol * out.downstream
        else:
            for what in ("first_pass_failure", "final_failure", "downstream_failure", "failure"):
                row |= {f"{what}_rate": None, f"{what}_rate_ci": None}
            row["escalations_per_task"] = None
            row["downstream_failures_per_day"] = None
        if not (out.known and out.cost is not None):
            unknown.append(name)
        else:
            fleet_cost += cost_draws
            fleet_exec += vol * out.draws["cost"]
            fleet_failed += vol * failed
            fleet_first += vol * out.draws["first_pass"]
            fleet_final += vol * out.draws["final"]
            fleet_down += vol * out.draws["downstream"]
            point["cost"] += row["usd_per_day"]
            point["exec"] += vol * out.cost
            point["failed"] += vol * out.failure
            point["first"] += vol * out.first_pass
            point["final"] += vol * out.final
            point["down"] += vol * out.downstream
            volume += vol
        row |= _realized(ev, name)
        row["estimates"] = out.rates
        rows.append(row)

    total_volume = sum(ev.per_day(t) for t in ev.types)
    realized_usd = sum(f.realized_usd for f in ev.types.values())
    tasks = sum(f.tasks for f in ev.types.values())
    result = {
        "days": ev.days,
        "first_day": ev.first_day.isoformat() if ev.first_day else None,
        "last_day": ev.last_day.isoformat() if ev.last_day else None,
        "tasks_per_day": total_volume,
        "failure_cost_usd": ev.failure_cost,
        "unknown_task_types": unknown,
        **ev.downstream_reporting,
        "known_share_of_tasks": volume / total_volume if total_volume else None,
        "realized_usd_per_day": realized_usd / ev.days if ev.days else None,
        "realized_failure_rate": sum(f.failures for f in ev.types.values()) / tasks,
        "realized_first_pass_failure_rate": sum(f.first_pass_failures for f in ev.types.values())
        / tasks,
        "realized_downstream_failures_per_day": sum(
            f.downstream_failures for f in ev.types.values()
        )
        / ev.days
        if ev.days
        else None,
    }
    if unknown or not volume:
        # a fleet total over part of the fleet would read as the whole: none is given
        result |= {
            k: None
            for k in (
                "usd_per_day",
                "usd_per_day_ci",
                "usd_per_month",
                "executor_cost_per_task_usd",
                "executor_cost_per_task_usd_ci",
                "failure_adjusted_usd_per_day",
                "first_pass_failure_rate",
                "first_pass_failure_rate_ci",
                "final_failure_rate",
                "final_failure_rate_ci",
                "failure_rate",
                "failure_rate_ci",
                "downstream_failures_per_day",
                "downstream_failures_per_day_ci",
            )
        }
    else:
        result |= {
            "usd_per_day": point["cost"],
            "usd_per_day_ci": interval(fleet_cost),
            "usd_per_month": per_month(point["cost"]),
            "executor_cost_per_task_usd": point["exec"] / volume,
            "executor_cost_per_task_usd_ci": interval(fleet_exec / volume),
            "failure_adjusted_usd_per_day": point["cost"] + ev.failure_cost * point["down"],
            "first_pass_failure_rate": point["first"] / volume,
            "first_pass_failure_rate_ci": interval(fleet_first / volume),
            "final_failure_rate": point["final"] / volume,
            "final_failure_rate_ci": interval(fleet_final / volume),
            "failure_rate": point["failed"] / volume,
            "failure_rate_ci": interval(fleet_failed / volume),
            "downstream_failures_per_day": point["down"],
            "downstream_failures_per_day_ci": interval(fleet_down),
        }
    result["task_types"] = rows
    return result


# -- routing-table files ----------------------------------------------------------------------

TABLE_FORMATS = ("yaml", "json", "csv")


def table_format(name: str) -> str:
    suffix = name.lower().rsplit(".", 1)[-1]
    return {"yml": "yaml", "yaml": "yaml", "json": "json", "csv": "csv"}.get(suffix, "")


def parse_table(text: str, fmt: str, source: str, ladder: tuple[str, ...]) -> dict[str, Route]:
    """A routing table as the routing-table export writes it (YAML or JSON: a list under
    `routing_table`; CSV: a header row), each row a `task_type` and its `routed_tier` (or
    `tier`), optionally a `ceiling`; other columns (the export's evidence) are ignored.
    QueryError naming the file, the row and the field for anything else."""
    try:
        if fmt == "csv":
            rows = list(csv.DictReader(io.StringIO(text)))
            where = lambda i: f"{source}, line {i + 2}"  # noqa: E731 (the header is line 1)
        else:
            if fmt == "json":
                data = json.loads(text)
            elif fmt == "yaml":
                import yaml

                data = yaml.safe_load(text)
            else:
                raise QueryError(
                    f"{source}: a routing table is a .yaml, .json or .csv file (as the "
                    "Re-tiering page and `tierwatch optimize --write` export it)"
                )
            rows = data.get("routing_table") if isinstance(data, dict) else data
            where = lambda i: f"{source}, row {i + 1} of routing_table"  # noqa: E731
    except (ValueError, csv.Error) as e:
        raise QueryError(f"{source}: not a readable {fmt.upper()} routing table: {e}") from None
    except Exception as e:  # yaml.YAMLError and its kin
        if type(e).__module__.startswith("yaml"):
            raise QueryError(f"{source}: not readable YAML: {e}") from None
        raise
    if not isinstance(rows, list):
        raise QueryError(
            f"{source}: expected a list of rows under `routing_table` (each with task_type "
            "and routed_tier)"
        )
    table: dict[str, Route] = {}
    for i, row in enumerate(rows):
        if not isinstance(row, dict):
            raise QueryError(f"{where(i)}: a row is an object with task_type and routed_tier")
        task_type = row.get("task_type")
        tier = row.get("routed_tier", row.get("tier"))
        ceiling = row.get("ceiling") or None
        if not isinstance(task_type, str) or not task_type:
            raise QueryError(f"{where(i)}: field task_type is missing or not text")
        for field, value in (("routed_tier", tier), ("ceiling", ceiling)):
            if value is None and field == "ceiling":
                continue
            if not isinstance(value, str) or value.strip().lower() not in ladder:
                raise QueryError(
                    f"{where(i)}: field {field} is {value!r}, not a tier of the ladder "
                    f"({' < '.join(ladder)}); pass the config the logs were loaded with"
                )
        tier = tier.strip().lower()
        ceiling = ceiling.strip().lower() if ceiling else None
        if ceiling and ladder.index(ceiling) < ladder.index(tier):
            raise QueryError(
                f"{where(i)}: ceiling {ceiling!r} is below routed_tier {tier!r}; the ceiling is "
                "the highest tier escalations may reach"
            )
        if task_type in table:
            raise QueryError(f"{where(i)}: task type {task_type!r} is routed twice")
        table[task_type] = Route(task_type, tier, ceiling)
    return table


def table_records(table: dict[str, Route], extra: dict[str, dict] | None = None) -> list[dict]:
    """A table as rows to write, in the routing-table export's terms."""
    return [
        {"task_type": r.task_type, "routed_tier": r.tier, "ceiling": r.ceiling}
        | (extra or {}).get(r.task_type, {})
        for r in table.values()
    ]


def write_table(records: list[dict], fmt: str) -> str:
    """Rows as a routing-table file (`routing_table:` list in YAML or JSON, or CSV) that
    `tierwatch simulate --table` reads back: the routing-table export's own writer."""
    return routing_table.write(records, fmt)


# -- the optimiser and the exploration plan ---------------------------------------------------

Z_CONFIDENCE = 1.959964  # 95% confidence (two-sided)
Z_POWER = 0.841621  # 80% power
BOUNDS = ("max_failure_rate", "max_downstream_per_day")


@dataclasses.dataclass
class Option:
    """One start tier for one task type, at the point estimates, per day."""

    task_type: str
    tier: str
    outcome: Outcome
    per_day: float  # tasks per day
    overhead: float  # planner and reviewer per task
    own_stages: int  # the type's own first stages on the tier
    supported: bool

    @property
    def usd(self) -> float:
        return self.per_day * (self.outcome.cost + self.overhead)

    @property
    def downstream(self) -> float:
        return self.per_day * self.outcome.downstream

    @property
    def failures(self) -> float:
        return self.per_day * self.outcome.failure

    def objective(self, failure_cost: float) -> float:
        return self.usd + failure_cost * self.downstream


def options(ev: Evidence, task_type: str) -> list[Option]:
    """Every tier the type could start on, known or not, with whether the evidence supports
    it: at least `min_evidence_tasks` of the type's own tasks started there, or it is the
    tier the fleet runs it on."""
    need = ev.config.settings["min_evidence_tasks"]
    facts = ev.types[task_type]
    out = []
    for tier in ev.ladder:
        outcome = cascade(ev, Route(task_type, tier))
        own = ev.stages.get((task_type, tier, "first"), {}).get("stages", 0)
        known = outcome.known and outcome.cost is not None
        out.append(
            Option(
                task_type,
                tier,
                outcome,
                ev.per_day(task_type),
                facts.overhead_usd / facts.tasks,
                own,
                known and (own >= need or tier == facts.observed_tier),
            )
        )
    return out


def _choose(ev, menu, weight):
    """Per task type the supported option of least objective + weight * failure metric."""
    return {
        t: min(
            (o for o in opts if o.supported),
            key=lambda o: (o.objective(ev.failure_cost) + weight(o), ev.ladder.index(o.tier)),
        )
        for t, opts in menu.items()
    }


def optimise(ev: Evidence, bound: str | None = None, limit: float | None = None) -> dict:
    """The cheapest table the evidence supports: per task type the supported start tier of
    least cost + failure_cost_usd x downstream failures; under a bound (BOUNDS) the least
    such table that meets it, by a Lagrange multiplier on the bounded failures (optimal
    among the tables on the lower convex hull of cost against failures)."""
    menu = {t: options(ev, t) for t in ev.types}
    menu = {t: opts for t, opts in menu.items() if any(o.supported for o in opts)}
    total = sum(ev.per_day(t) for t in menu) or 1.0

    def metric(choice) -> float:
        if bound == "max_failure_rate":
            return sum(o.failures for o in choice.values()) / total
        return sum(o.downstream for o in choice.values())

    def weight_of(lam):
        if bound == "max_failure_rate":
            return lambda o: lam * o.failures
        return lambda o: lam * o.downstream

    choice = _choose(ev, menu, lambda o: 0.0)
    feasible = True
    if bound is not None:
        if bound not in BOUNDS:
            raise QueryError(f"unknown bound {bound!r}; use one of {', '.join(BOUNDS)}")
        if metric(choice) > limit:
            lo, hi = 0.0, 1.0
            while metric(_choose(ev, menu, weight_of(hi))) > limit and hi < 1e12:
                hi *= 4
            if metric(_choose(ev, menu, weight_of(hi))) > limit:
                feasible = False
                choice = _choose(ev, menu, weight_of(hi))
            else:
                for _ in range(60):
                    mid = (lo + hi) / 2
                    if metric(_choose(ev, menu, weight_of(mid))) > limit:
                        lo = mid
                    else:
                        hi = mid
                choice = _choose(ev, menu, weight_of(hi))
    return {"menu": menu, "choice": choice, "feasible": feasible, "metric": metric(choice)}


def sample_size(break_even: float, expected: float) -> int | None:
    """Tasks to run on a tier to tell, at 95% confidence and 80% power, that its failure
    rate is below `break_even` when it is in fact `expected` (the one-sample normal
    approximation for a proportion); None when `expected` is not below `break_even`."""
    if expected >= break_even:
        return None
    b = min(break_even, 1.0)
    root = Z_CONFIDENCE * math.sqrt(b * (1 - b)) + Z_POWER * math.sqrt(expected * (1 - expected))
    return math.ceil((root / (b - expected)) ** 2)


def exploration(ev: Evidence, chosen: dict, menu: dict, start) -> list[dict]:
    """For every task type, each tier next to the chosen one that the evidence cannot
    support but that could still pay (with its rates at the favourable ends of their 95%
    intervals, or, with no estimate at all, on price): how many tasks must run there to
    tell, how long that takes at the type's volume, and what it costs."""
    import datetime as dt

    need = int(ev.config.settings["min_evidence_tasks"])
    horizon = ev.config.settings["exploration_days"]
    plan = []
    for t, opts in menu.items():
        best = chosen[t]
        target = best.objective(ev.failure_cost)
        at = ev.ladder.index(best.tier)
        for o in opts:
            if o.supported or abs(ev.ladder.index(o.tier) - at) != 1:
                continue
            entry = {
                "task_type": t,
                "from_tier": best.tier,
                "to_tier": o.tier,
                "tasks_seen": o.own_stages,
                "tasks_per_day": o.per_day,
            }
            if o.outcome.known and o.outcome.cost is not None:
                value = o.objective(ev.failure_cost)
                hope = cascade(ev, Route(t, o.tier), optimistic=True)
                best_case = o.per_day * (hope.cost + o.overhead + ev.failure_cost * hope.downstream)
                if best_case >= target:
                    continue  # even the favourable ends of its intervals do not pay
                expected = ev.stage_failure(t, o.tier, "first")
                if value < target:
                    # the estimate already says it pays: what is missing is evidence
                    n, break_even = None, None
                    sized = f"the evidence threshold (min_evidence_tasks, {need})"
                else:
                    # it pays only if the tier does better than estimated: size a test of its
                    # failure rate against the rate at which the move stops paying, with its
                    # accepted answers assumed as good as now (which the same tasks check)
                    current = ev.downstream(t, best.tier).point
                    at0 = cascade(ev, Route(t, o.tier), first_stage_failure=0.0)
                    at1 = cascade(ev, Route(t, o.tier), first_stage_failure=1.0)
                    # at q = 1 nothing is accepted on the new tier: at1.downstream is what the
                    # tiers above it let through
                    v0 = o.per_day * (at0.cost + o.overhead + ev.failure_cost * current)
                    v1 = o.per_day * (at1.cost + o.overhead + ev.failure_cost * at1.downstream)
                    hoped = min(expected.point, ev.stage_failure(t, best.tier, "first").point)
                    break_even = None if v1 <= v0 else (target - v0) / (v1 - v0)
                    n = None if break_even is None else sample_size(break_even, hoped)
                    if n is None:
                        continue
                    sized = (
                        f"a test that its failure rate is below the break-even "
                        f"{break_even:.1%} if it is {hoped:.1%} (95% confidence, 80% power)"
                    )
                entry |= {
                    "estimate": expected.source,
                    "expected_failure_rate": expected.point,
                    "expected_failure_rate_ci": expected.interval(),
                    "break_even_failure_rate": break_even,
                    "basis": expected.basis,
                    "saving_usd_per_day_estimated": target - value,
                    "saving_usd_per_day_at_best": target - best_case,
                    "sized_by": sized,
                }
                per_task = o.usd / o.per_day if o.per_day else 0.0
                extra = (value - target) / o.per_day if o.per_day else 0.0
            else:
                unit_best = ev.unit_cost(t, best.tier)
                unit = ev.unit_cost(t, o.tier)
                if unit is None or unit_best is None or unit >= unit_best:
                    continue
                n = None
                entry |= {
                    "estimate": "unknown",
                    "expected_failure_rate": None,
                    "expected_failure_rate_ci": None,
                    "break_even_failure_rate": None,
                    "basis": f"no task of any type ever ran on {o.tier}",
                    "saving_usd_per_day_estimated": None,
                    "saving_usd_per_day_at_best": None,
                    "sized_by": f"a baseline of min_evidence_tasks ({need}): nothing to size "
                    "a test on",
                }
                per_task, extra = unit, None
            n = max(n or 0, need) - o.own_stages
            if n <= 0:
                continue
            share = n / (o.per_day * horizon) if o.per_day else 1.0
            one_in = 1 if share >= 0.5 else max(2, math.floor(1 / share))
            days = math.ceil(n * one_in / o.per_day) if o.per_day else None
            entry |= {
                "tasks_needed": n,
                "one_in": one_in,
                "days": days,
                "until": (start + dt.timedelta(days=days)).isoformat() if days else None,
                "cost_usd": n * per_task,
                "extra_cost_usd": None if extra is None else n * extra,
            }
            entry["heuristic"] = (
                f'send {"every" if one_in == 1 else f"1 in {one_in}"} "{t}" task'
                f"{'' if one_in == 1 else 's'} to {o.tier} instead of {best.tier} until "
                f"{entry['until']} ({n} tasks, to tell whether {o.tier} is good enough for it)"
            )
            plan.append(entry)
    plan.sort(key=lambda e: (-(e["saving_usd_per_day_at_best"] or 0), e["task_type"]))
    return plan
