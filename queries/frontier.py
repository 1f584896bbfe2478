"""The cost-quality frontier: every one-tier fleet, the realized routing, the routing table
(flags applied), the optimiser's table and the oracle on one plane (executor cost per task,
failure rate), with the share of the cheapest fleet's failure gap each routing recovers and
the area under the frontier (docs/metrics.md, "Frontier")."""

from __future__ import annotations

import itertools

import duckdb

from tierwatch.ingest.config import Config
from tierwatch.queries import run, whatif
from tierwatch.queries.filters import Filters
from tierwatch.queries.simulate import table_from

NUMBERS = frozenset(
    {"aiq", "aiq_one_tier", "cost_per_task_usd", "days", "failure_rate", "gap_recovered"}
)


def gap_recovered(failure: float | None, cheapest: float | None, oracle: float | None):
    """RouteLLM's PGR on failures: (F_cheapest - F) / (F_cheapest - F_oracle)."""
    if failure is None or cheapest is None or oracle is None or cheapest <= oracle:
        return None
    return (cheapest - failure) / (cheapest - oracle)


def aiq(points: list[tuple[float, float]], lo: float, hi: float) -> float | None:
    """RouterBench's AIQ on (cost, success rate) points: the area under their upper convex
    hull made non-decreasing, between costs `lo` and `hi`, divided by hi - lo."""
    inside = sorted({(c, q) for c, q in points if lo <= c <= hi})
    if hi <= lo or not inside or inside[0][0] > lo:
        return None
    hull: list[tuple[float, float]] = []
    for p in inside:  # the upper hull, left to right (Andrew's monotone chain)
        while len(hull) >= 2:
            (x1, y1), (x2, y2) = hull[-2], hull[-1]
            if (x2 - x1) * (p[1] - y1) - (y2 - y1) * (p[0] - x1) >= 0:
                hull.pop()
            else:
                break
        hull.append(p)
    best, line = -1.0, []
    for c, q in hull:  # a costlier point never does worse than a cheaper one
        best = max(best, q)
        line.append((c, best))
    if line[-1][0] < hi:
        line.append((hi, line[-1][1]))
    area = sum((x2 - x1) * (y1 + y2) / 2 for (x1, y1), (x2, y2) in itertools.pairwise(line))
    return area / (hi - lo)


def _point(name, kind, cost, cost_ci, failure, failure_ci, note=""):
    return {
        "name": name,
        "kind": kind,
        "cost_per_task_usd": cost,
        "cost_per_task_usd_ci": cost_ci,
        "failure_rate": failure,
        "failure_rate_ci": failure_ci,
        "known": cost is not None and failure is not None,
        "note": note,
    }


def _simulated(name, kind, result, note=""):
    return _point(
        name,
        kind,
        result["executor_cost_per_task_usd"],
        result["executor_cost_per_task_usd_ci"],
        result["failure_rate"],
        result["failure_rate_ci"],
        note
        or (
            "unknown: " + ", ".join(result["unknown_task_types"])
            if result["unknown_task_types"]
            else ""
        ),
    )


def build(con: duckdb.DuckDBPyConnection, config: Config, filters: Filters, **options) -> dict:
    """The frontier report (keys in docs/reports.md#frontier)."""
    ev = whatif.evidence(con, config, filters)
    points = []
    for tier in ev.ladder:
        table = {t: whatif.Route(t, tier, tier) for t in ev.types}
        points.append(_simulated(f"all-{tier}", "one_tier", whatif.simulate(ev, table), ""))
    tasks = sum(f.tasks for f in ev.types.values())
    executor_usd = sum(f.realized_usd - f.overhead_usd for f in ev.types.values())
    failures = sum(f.failures for f in ev.types.values())
    points.append(
        _point("realized", "realized", executor_usd / tasks, None, failures / tasks, None)
    )
    points.append(
        _simulated(
            "routing table", "table", whatif.simulate(ev, table_from(con, ev, "flags", filters))
        )
    )
    best = whatif.optimise(ev)
    optimised = {t: whatif.Route(t, o.tier) for t, o in best["choice"].items()}
    points.append(_simulated("optimised", "optimised", whatif.simulate(ev, optimised)))
    oracle = run(con, "whatif_oracle", filters.params())[0]
    points.append(
        _point(
            "oracle",
            "oracle",
            oracle["usd"] / oracle["tasks"] if oracle["tasks"] else None,
            None,
            oracle["failures"] / oracle["tasks"] if oracle["tasks"] else None,
            None,
            "each task once on the tier its chain succeeded on: a bound the chains can show",
        )
    )
    one_tier = [p for p in points if p["kind"] == "one_tier" and p["known"]]
    cheapest = min(one_tier, key=lambda p: p["cost_per_task_usd"], default=None)
    dearest = max(one_tier, key=lambda p: p["cost_per_task_usd"], default=None)
    oracle_failure = points[-1]["failure_rate"]
    lo = cheapest["cost_per_task_usd"] if cheapest else 0.0
    hi = dearest["cost_per_task_usd"] if dearest else 0.0

    def success(ps):
        return [(p["cost_per_task_usd"], 1 - p["failure_rate"]) for p in ps if p["known"]]

    base = aiq(success(one_tier), lo, hi)
    for p in points:
        p["gap_recovered"] = (
            gap_recovered(p["failure_rate"], cheapest["failure_rate"], oracle_failure)
            if cheapest and p["known"]
            else None
        )
        p["aiq"] = (
            aiq(success(one_tier + [p]), lo, hi)
            if p["known"] and p["kind"] not in ("one_tier", "oracle")
            else None
        )
    return {
        "days": ev.days,
        "cheapest_one_tier": cheapest["name"] if cheapest else None,
        "aiq_one_tier": base,
        "points": points,
    }
