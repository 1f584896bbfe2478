"""Text helpers the report renderers share: rates, dollars and plain-text tables."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from tierwatch.queries.labels import LABELS, fmt_usd

__all__ = ["fmt_rate", "fmt_usd", "format_table"]


def fmt_rate(rate: float | None, ci: Sequence[float] | None = None) -> str:
    """`12.5% [8.1%–18.9%]`, or `–` for an undefined rate."""
    if rate is None:
        return "–"
    text = f"{rate:.1%}"
    if ci is not None:
        text += f" [{ci[0]:.1%}–{ci[1]:.1%}]"
    return text


def _cell(value) -> str:
    """A table cell: counts with thousands separators, everything else as its text."""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return str(value)


def format_table(
    title: str,
    columns: Sequence[tuple[str, Callable[[dict], object]]],
    rows: Sequence[dict],
) -> str:
    """A plain-text table: `title`, then one line per row; each column is (header, getter)."""
    cells = [[_cell(get(row)) for _, get in columns] for row in rows]
    # a header that is a report key is shown by its label, as the dashboard shows it; every
    # header starts with a capital, as the dashboard's do
    headers = [LABELS.get(h) or h[:1].upper() + h[1:] for h, _ in columns]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(headers)]
    # a column of numbers (counts, rates, dollars) is right-aligned, text left-aligned
    numeric = [
        all(re.match(r"^[-+$]?[\d.,]+%?( \[|$)", r[i]) or r[i] in ("", "–") for r in cells)
        for i in range(len(headers))
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            v.rjust(w) if num else v.ljust(w)
            for v, w, num in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    out = [title, line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in cells] if cells else ["(none)"]
    return "\n".join(out)
