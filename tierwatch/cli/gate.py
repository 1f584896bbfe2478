"""`--fail-on`: a condition on a report's numbers that should fail a CI build."""

from __future__ import annotations

import re

from tierwatch.queries import QueryError
from tierwatch.queries.report import report_module

_CONDITION = re.compile(r"^\s*([a-z_]+)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")
_OPERATORS = {
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}
_ROW_LABELS = ("task_type", "planner_tier", "executed_tier", "tier", "name")


def gate_failures(result: dict, condition: str) -> list[str]:
    """Where `condition` (`KEY>NUMBER`, also `>=`, `<`, `<=`; e.g. `escalation_rate>0.3`)
    holds in a report result: in its top-level numbers and in every row of its lists that
    has KEY, one sentence each. A null value (an undefined rate) never matches. QueryError
    for a condition that cannot be read or a KEY the result does not have."""
    match = _CONDITION.match(condition)
    if not match:
        raise QueryError(
            f"--fail-on {condition!r} is not a condition; write KEY>NUMBER (or >=, <, <=), "
            f"e.g. --fail-on 'escalation_rate>0.3'"
        )
    key, op, limit = match.group(1), match.group(2), float(match.group(3))
    name = result.get("report")
    numbers = report_module(name).NUMBERS
    if key not in numbers:
        raise QueryError(
            f"--fail-on {condition!r}: the {name} report has no number {key!r}; its numbers "
            f"are {', '.join(sorted(numbers))}"
        )
    if result.get("empty"):
        return []
    rows = [("overall", result)] + [
        (list_name, row)
        for list_name, value in result.items()
        if isinstance(value, list)
        for row in value
        if isinstance(row, dict)
    ]
    found = [(where, row) for where, row in rows if key in row]
    failures = []
    for where, row in found:
        value = row[key]
        if isinstance(value, bool) or not isinstance(value, int | float):
            continue
        if _OPERATORS[op](value, limit):
            label = " ".join([where] + [f"{k} {row[k]!r}" for k in _ROW_LABELS if k in row])
            small = " (small sample)" if row.get("small_sample") else ""
            failures.append(f"{label}: {key} {value:g} {op} {limit:g}{small}")
    return failures
