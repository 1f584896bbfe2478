"""The selection every analysis shares: a date range, fleets and task types.

The date range applies to a task's `day` (UTC day of its first executor attempt) in
task-level results, and to each attempt's UTC date in spend (realized cost, overhead).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass


class QueryError(ValueError):
    """A selection or option that cannot be answered (a bad date, an unknown tier)."""


def parse_date(text: str | dt.date | None, name: str = "the date") -> dt.date | None:
    """`2026-03-01` as a date; QueryError calling it `name` for anything else."""
    if text is None or isinstance(text, dt.date):
        return text
    try:
        return dt.date.fromisoformat(text.strip())
    except ValueError:
        raise QueryError(
            f"{name} is {text!r}, must be a date like 2026-03-01 (YYYY-MM-DD, UTC)"
        ) from None


@dataclass(frozen=True)
class Filters:
    """What to look at. Empty `fleets` / `task_types` mean all; `until` is inclusive."""

    since: dt.date | None = None
    until: dt.date | None = None
    fleets: tuple[str, ...] = ()
    task_types: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.since and self.until and self.since > self.until:
            raise QueryError(
                f"the first day {self.since} is after the last day {self.until}; swap them or "
                "widen the range"
            )

    @classmethod
    def parse(
        cls,
        since: str | dt.date | None = None,
        until: str | dt.date | None = None,
        fleets: Iterable[str] = (),
        task_types: Iterable[str] = (),
        names: tuple[str, str] = ("the first day", "the last day"),
    ) -> Filters:
        """Filters from user input (dates as text); QueryError for a bad date or range,
        calling the two dates by `names` (the command line passes its option names)."""
        first, last = parse_date(since, names[0]), parse_date(until, names[1])
        if first and last and first > last:
            raise QueryError(
                f"{names[0]} {first} is after {names[1]} {last}; swap them or widen the range"
            )
        return cls(since=first, until=last, fleets=tuple(fleets), task_types=tuple(task_types))

    def params(self) -> dict:
        """Bound parameters `$since`, `$until`, `$fleets`, `$task_types` for a query file.

        The SQL predicate for each (an empty list means no filter):
            (cast($since as date) is null or day >= cast($since as date))
            and (cast($until as date) is null or day <= cast($until as date))
            and (len(cast($fleets as varchar[])) = 0
                 or list_contains(cast($fleets as varchar[]), fleet))
            and (len(cast($task_types as varchar[])) = 0
                 or list_contains(cast($task_types as varchar[]), task_type))
        """
        return {
            "since": self.since,
            "until": self.until,
            "fleets": list(self.fleets),
            "task_types": list(self.task_types),
        }

    def describe(self) -> str:
        """The selection in words, for messages."""
        parts = []
        if self.since or self.until:
            parts.append(f"days {self.since or '…'} to {self.until or '…'}")
        if self.fleets:
            parts.append("fleet " + ", ".join(repr(f) for f in self.fleets))
        if self.task_types:
            parts.append("task type " + ", ".join(repr(t) for t in self.task_types))
        return "; ".join(parts) or "everything"

    def to_json(self) -> dict:
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "fleets": list(self.fleets),
            "task_types": list(self.task_types),
        }
