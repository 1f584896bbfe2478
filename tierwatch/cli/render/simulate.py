"""The `simulate` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_rate, fmt_usd, format_table
from tierwatch.queries.labels import downstream_caveat


def _ci_usd(value, ci) -> str:
    if value is None:
        return "unknown"
    if not ci:
        return fmt_usd(value)
    return f"{fmt_usd(value)} [{fmt_usd(ci[0])}–{fmt_usd(ci[1])}]"


def _rate(row, name) -> str:
    value = row.get(f"{name}_rate")
    return "unknown" if value is None else fmt_rate(value, row.get(f"{name}_rate_ci"))


def render(result: dict) -> str:
    """The simulation as text: the fleet against realized, then each task type."""
    out = [
        f"What-if over {result['days']} day(s) ({result['first_day']} to {result['last_day']}), "
        f"{result['tasks_per_day']:,.1f} tasks a day; table: {result['table_source']}",
        "",
        format_table(
            "The fleet (95% intervals)",
            [
                ("", lambda r: r[0]),
                ("simulated", lambda r: r[1]),
                ("realized", lambda r: r[2]),
            ],
            [
                (
                    "cost per day",
                    _ci_usd(result["usd_per_day"], result["usd_per_day_ci"]),
                    fmt_usd(result["realized_usd_per_day"]),
                ),
                ("cost per month", _ci_usd(result["usd_per_month"], None), ""),
                (
                    "failure rate",
                    _rate(result, "failure"),
                    fmt_rate(result["realized_failure_rate"]),
                ),
                (
                    "first-pass failure",
                    _rate(result, "first_pass_failure"),
                    fmt_rate(result["realized_first_pass_failure_rate"]),
                ),
                (
                    "downstream failures per day",
                    "unknown"
                    if result["downstream_failures_per_day"] is None
                    else f"{result['downstream_failures_per_day']:,.1f}",
                    f"{result['realized_downstream_failures_per_day']:,.1f}",
                ),
            ],
        ),
    ]
    if caveat := downstream_caveat(result):
        out.append(caveat)
    if result["unknown_task_types"]:
        out.append(
            "UNKNOWN: no task ever ran on the tier the table gives "
            + ", ".join(result["unknown_task_types"])
            + ": the fleet's totals are unknown until it does (tierwatch optimize plans it)."
        )
    if result["not_in_selection"]:
        out.append("Not in the selection (ignored): " + ", ".join(result["not_in_selection"]))
    out += [
        "",
        format_table(
            "By task type (simulated, with the realized tier and cost beside it)",
            [
                ("task_type", lambda r: r["task_type"]),
                ("tier", lambda r: r["tier"] + ("" if r["changed"] else " (as run)")),
                ("was", lambda r: r["realized_tier"]),
                ("per day", lambda r: _ci_usd(r["usd_per_day"], r["usd_per_day_ci"])),
                ("realized", lambda r: fmt_usd(r["realized_usd_per_day"])),
                ("failure", lambda r: _rate(r, "failure")),
                ("realized failure", lambda r: fmt_rate(r["realized_failure_rate"])),
                ("evidence", lambda r: _evidence(r)),
            ],
            result["task_types"],
        ),
    ]
    return "\n".join(out)


def _evidence(row) -> str:
    sources = {e["source"] for e in row["estimates"]}
    if "unknown" in sources:
        return "unknown"
    return "borrowed in part" if "borrowed" in sources else "observed"
