"""The resulting routing table: each task type's tier, from the data and the re-tiering flags.

`routing_table` runs `routing_table.sql`; the `to_*` functions export it as YAML, JSON, CSV
and as a plain-text block of routing heuristics to paste into a planner's system prompt.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from dataclasses import asdict, dataclass

import duckdb

from tierwatch.queries import Filters, run

COLUMNS = (
    "task_type",
    "routed_tier",
    "source",
    "observed_tier",
    "tasks",
    "failure_rate",
    "observed_tier_failure_rate",
    "last_day",
    "flag_reason",
    "flag_note",
    "flagged_by",
    "flagged_at",
)


@dataclass(frozen=True)
class Route:
    """One task type's row of the routing table."""

    task_type: str
    routed_tier: str  # where the planner should send it: the flag's target, else observed
    source: str  # "flag" or "observed"
    observed_tier: str  # the tier the planner assigned most often in the selection
    tasks: int
    failure_rate: float
    observed_tier_failure_rate: float
    last_day: dt.date
    flag_reason: str | None
    flag_note: str | None
    flagged_by: str | None
    flagged_at: dt.datetime | None


def routing_table(con: duckdb.DuckDBPyConnection, filters: Filters | None = None) -> list[Route]:
    """One Route per task type in the selection, busiest first."""
    routes = []
    for r in run(con, "routing_table", (filters or Filters()).params()):
        routes.append(
            Route(
                task_type=r["task_type"],
                routed_tier=r["routed_tier"],
                source=r["source"],
                observed_tier=r["observed_tier"],
                tasks=r["tasks"],
                failure_rate=r["failures"] / r["tasks"],
                observed_tier_failure_rate=r["observed_tier_failures"] / r["observed_tier_tasks"],
                last_day=r["last_day"],
                flag_reason=r["flag_reason"],
                flag_note=r["flag_note"],
                flagged_by=r["flagged_by"],
                flagged_at=r["flagged_at"],
            )
        )
    return routes


def _plain(value):
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, float):
        return round(value, 4)
    return value


def to_records(routes: list[Route]) -> list[dict]:
    """The rows as plain dicts in COLUMNS order (dates as ISO strings)."""
    return [{k: _plain(v) for k, v in asdict(r).items()} for r in routes]


def to_json(routes: list[Route]) -> str:
    return write(to_records(routes), "json")


def to_csv(routes: list[Route]) -> str:
    return write(to_records(routes), "csv", COLUMNS)


# Characters a YAML double-quoted scalar must not hold raw (line breaks YAML knows, BOM, C1).
_YAML_UNSAFE = {0x85, 0x2028, 0x2029, 0xFEFF} | set(range(0x7F, 0xA0))


def yaml_string(text: str) -> str:
    """`text` as a YAML double-quoted scalar: JSON's escapes plus the ones YAML needs."""
    quoted = json.dumps(text, ensure_ascii=False)
    return "".join(f"\\u{ord(c):04x}" if ord(c) in _YAML_UNSAFE else c for c in quoted)


def _yaml_value(value) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return yaml_string(str(value))


YAML_HEADER = "# tierwatch routing table: routed_tier is where the planner should send a task type"


def to_yaml(routes: list[Route]) -> str:
    """A flat YAML list under `routing_table:`; every string double-quoted."""
    return write(to_records(routes), "yaml", COLUMNS, header=YAML_HEADER)


def write(records: list[dict], fmt: str, columns=None, header: str | None = None) -> str:
    """Rows as a routing-table file: a list under `routing_table` in JSON or YAML (a flat
    list, every string double-quoted, after an optional comment line `header`), or CSV;
    `columns` in order (default: every key the rows have, first seen first). The one writer
    of the routing-table export and of the what-if's tables (`tierwatch simulate --table`
    reads both back)."""
    if fmt == "json":
        return json.dumps({"routing_table": records}, ensure_ascii=False, indent=2) + "\n"
    columns = list(columns or dict.fromkeys(k for r in records for k in r)) or [
        "task_type",
        "routed_tier",
    ]
    if fmt == "csv":
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(records)
        return out.getvalue()
    lines = [header] if header else []
    lines.append("routing_table:" if records else "routing_table: []")
    for record in records:
        for i, key in enumerate(columns):
            lines.append(f"{'  - ' if i == 0 else '    '}{key}: {_yaml_value(record.get(key))}")
    return "\n".join(lines) + "\n"


def _one_line(text: str) -> str:
    """User text made safe for one line of a prompt: no line breaks or control characters."""
    return " ".join("".join(c if c.isprintable() else " " for c in text).split())


def to_heuristics(routes: list[Route], ladder: tuple[str, ...]) -> str:
    """A short plain-text block of routing rules for a planner's system prompt."""
    if not routes:
        return "No task types in the selection: no routing heuristics to give yet.\n"
    tasks = sum(r.tasks for r in routes)
    days = [r.last_day for r in routes]
    lines = [
        f"Routing heuristics from {tasks:,} observed tasks (data up to {max(days).isoformat()}).",
        "Assign each subtask of these types to the tier named:",
    ]
    for r in routes:
        name = json.dumps(_one_line(r.task_type), ensure_ascii=False)
        if r.source == "flag" and r.routed_tier != r.observed_tier:
            why = f"moved from {r.observed_tier}"
            if r.flag_reason:
                why += f": {_one_line(r.flag_reason)}"
        elif r.source == "flag":
            why = "confirmed by review"
            if r.flag_reason:
                why += f": {_one_line(r.flag_reason)}"
        else:
            why = f"{r.failure_rate:.1%} of {r.tasks:,} tasks failed"
        lines.append(f"- {name} -> {r.routed_tier} ({why})")
    if len(ladder) > 1:
        lines.append(
            "Escalate a failed subtask one tier at a time ("
            + " -> ".join(ladder)
            + "); never skip a tier."
        )
    return "\n".join(lines) + "\n"
