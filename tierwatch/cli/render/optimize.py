"""The `optimize` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, fmt_usd, format_table
from tierwatch.queries.labels import downstream_caveat


def render(result: dict) -> str:
    if result["bound"] == "max_failure_rate":
        bound = f"failure rate at most {fmt_rate(result['limit'])}"
    elif result["bound"] == "max_downstream_per_day":
        bound = f"at most {result['limit']:g} downstream failures a day"
    else:
        bound = (
            f"no bound: each downstream failure costs "
            f"{fmt_usd(result['settings']['failure_cost_usd'])}"
        )
    out = [f"Optimised routing table ({bound})"]
    if not result["feasible"]:
        out.append(
            "NO TABLE the evidence supports meets the bound: shown is the one with the fewest "
            "failures. Explore (below) or relax the bound."
        )
    cur = result["current"]
    out += [
        "",
        format_table(
            "The fleet: as run now and optimised (95% intervals)",
            [("", lambda r: r[0]), ("as run", lambda r: r[1]), ("optimised", lambda r: r[2])],
            [
                ("cost per day", fmt_usd(cur["usd_per_day"]), fmt_usd(result["usd_per_day"])),
                (
                    "failure rate",
                    fmt_rate(cur["failure_rate"], cur["failure_rate_ci"]),
                    fmt_rate(result["failure_rate"], result["failure_rate_ci"]),
                ),
                (
                    "downstream failures a day",
                    _num(cur["downstream_failures_per_day"]),
                    _num(result["downstream_failures_per_day"]),
                ),
            ],
        ),
        "",
        format_table(
            f"{result['moves']} move(s)",
            [
                ("task_type", lambda r: r["task_type"]),
                ("from_tier", lambda r: r["realized_tier"]),
                ("to_tier", lambda r: r["tier"]),
                ("per day", lambda r: fmt_usd(r["usd_per_day"])),
                ("realized", lambda r: fmt_usd(r["realized_usd_per_day"])),
                ("failure", lambda r: fmt_rate(r["failure_rate"], r["failure_rate_ci"])),
            ],
            [r for r in result["task_types"] if r["changed"]],
        ),
    ]
    if caveat := downstream_caveat(result):
        out.append(caveat)
    saving = result["saving_usd_per_day"]
    if saving is not None:
        adjusted = cur["failure_adjusted_usd_per_day"] - result["failure_adjusted_usd_per_day"]
        out.append(
            f"{'Saves' if saving >= 0 else 'Costs'} {fmt_usd(abs(saving))} a day "
            f"({fmt_usd(abs(result['saving_usd_per_month']))} a month) "
            f"{'' if saving >= 0 else 'more '}in calls against the table as run; with "
            f"downstream failures priced, it saves {fmt_usd(adjusted)} a day."
        )
    out += ["", "Exploration plan (moves the evidence cannot support yet):"]
    out += [f"- {h}" for h in result["heuristics"]] or ["(none)"]
    return "\n".join(out)


def _num(value) -> str:
    return "unknown" if value is None else f"{value:,.1f}"
