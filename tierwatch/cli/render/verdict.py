"""The `verdict` report as text."""

from __future__ import annotations

from tierwatch.cli.render.text import format_table
from tierwatch.queries.labels import condition_threshold, condition_value


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
            ("value", condition_value),
            ("threshold", condition_threshold),
            ("how", lambda c: c["detail"]),
        ],
        result["conditions"],
    )
    return f"{answer}\n\n{table}"
