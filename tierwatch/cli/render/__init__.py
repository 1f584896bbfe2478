"""The reports as text, for the terminal: one module per report, named as the report, each
with `render(result) -> str`. The reports themselves (tierwatch.queries) return data only."""

from __future__ import annotations

import importlib

from tierwatch.queries.report import report_module


def render_text(name: str, result: dict) -> str:
    """Report `name`'s result as human-readable text (its message when it is empty)."""
    if result.get("empty"):
        return result["message"]
    report_module(name)  # a report that does not exist is the same QueryError everywhere
    return importlib.import_module(f"{__name__}.{name}").render(result)
