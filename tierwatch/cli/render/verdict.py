"""The `verdict` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import fmt_usd, format_table


def _value(c: dict) -> str:
    v = c["value"]
    if v is None:
        return "–"
    if c["name"] == "saving":
        return fmt_usd(v)
    if c["name"].startswith("quality"):
        return f"{v:.1%}"
    return f"{v:,.1f}" if isinstance(v, float) else str(v)


def _threshold(c: dict) -> str:
    t = c["threshold"]
    if c["name"] == "saving":
        return f"> {fmt_usd(t)}/month"
    if c["name"].startswith("quality"):
        return f">= {t:.0%}"
    if c["name"] == "heterogeneous":
        return f">= {t} tiers"
    return f"> {t:g}/day"


def render(result: dict) -> str:
    """The verdict as text: the answer, then each condition."""
    answer = (
        "ROUTE: every condition for routing holds."
        if result["route"]
        else "DO NOT ROUTE (or stop): not every condition holds; use one tier you trust."
    )
    table = format_table(
        "The article's conditions",
        [
            ("condition", lambda c: c["name"]),
            ("met", lambda c: "yes" if c["met"] else "NO"),
            ("value", _value),
            ("threshold", _threshold),
            ("how", lambda c: c["detail"]),
        ],
        result["conditions"],
    )
    return f"{answer}\n\n{table}"
