"""Re-tiering flags: a user marks a task type to move to another tier, or clears the mark.

The `flags` table is a history: every flag and unflag is a row, a task type's current flag
is its latest row, and an `unflag` row clears it. Every write bumps the store's
data_version in the same transaction, so the dashboard shows it at once.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import duckdb

from tierwatch.ingest.store import bump_data_version, stored_ladder

MAX_TEXT = 2000  # reason and note are free text; longer than a page is a paste accident


class FlagError(ValueError):
    """A flag that cannot be stored as asked; the message says what to change."""


@dataclass(frozen=True)
class FlagEvent:
    """One row of the flag history."""

    flag_id: int
    task_type: str
    action: str  # flag / unflag
    target_tier: str | None
    reason: str | None
    note: str | None
    flagged_by: str
    flagged_at: dt.datetime


def _clean(value: str | None, field: str, *, required: bool = False) -> str | None:
    text = (value or "").strip()
    if required and not text:
        raise FlagError(f"{field} is empty; give a {field.replace('_', ' ')}")
    if len(text) > MAX_TEXT:
        raise FlagError(f"{field} is {len(text)} characters long; keep it under {MAX_TEXT}")
    return text or None


def _known_task_type(con: duckdb.DuckDBPyConnection, task_type: str) -> bool:
    found = con.execute(
        "select 1 from task_rollup where task_type = $t union all "
        "select 1 from flags where task_type = $t limit 1",
        {"t": task_type},
    ).fetchone()
    return found is not None


def _write(con: duckdb.DuckDBPyConnection, row: dict) -> FlagEvent:
    con.execute("begin transaction")
    try:
        flag_id, flagged_at = con.execute(
            "insert into flags (flag_id, task_type, action, target_tier, reason, note, "
            "flagged_by, flagged_at) values (nextval('flag_id_seq'), $task_type, $action, "
            "$target_tier, $reason, $note, $flagged_by, current_timestamp::timestamp) "
            "returning flag_id, flagged_at",
            row,
        ).fetchone()
        bump_data_version(con)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise
    return FlagEvent(flag_id=flag_id, flagged_at=flagged_at, **row)


def flag(
    con: duckdb.DuckDBPyConnection,
    task_type: str,
    target_tier: str,
    *,
    flagged_by: str,
    reason: str | None = None,
    note: str | None = None,
) -> FlagEvent:
    """Flag `task_type` for re-tiering to `target_tier` (a tier of the store's ladder).

    The task type must appear in the data (or in the flag history); names are stored exactly
    as given, so a task type with quotes or unicode round-trips.
    """
    if not task_type:
        raise FlagError("task type is empty; pick one of the task types in the data")
    ladder = stored_ladder(con)
    tier = (target_tier or "").strip().lower()
    if tier not in ladder:
        known = " < ".join(ladder) if ladder else "none yet: load logs first"
        raise FlagError(f"target tier {target_tier!r} is not on the ladder ({known})")
    if not _known_task_type(con, task_type):
        raise FlagError(f"task type {task_type!r} does not appear in the data; pick one that does")
    return _write(
        con,
        {
            "task_type": task_type,
            "action": "flag",
            "target_tier": tier,
            "reason": _clean(reason, "reason"),
            "note": _clean(note, "note"),
            "flagged_by": _clean(flagged_by, "flagged_by", required=True),
        },
    )


def unflag(
    con: duckdb.DuckDBPyConnection,
    task_type: str,
    *,
    flagged_by: str,
    note: str | None = None,
) -> FlagEvent:
    """Clear the current flag of `task_type`; FlagError when it has none."""
    if task_type not in current_flags(con):
        raise FlagError(f"task type {task_type!r} is not flagged; nothing to clear")
    return _write(
        con,
        {
            "task_type": task_type,
            "action": "unflag",
            "target_tier": None,
            "reason": None,
            "note": _clean(note, "note"),
            "flagged_by": _clean(flagged_by, "flagged_by", required=True),
        },
    )


_COLUMNS = "flag_id, task_type, action, target_tier, reason, note, flagged_by, flagged_at"


def history(con: duckdb.DuckDBPyConnection, task_type: str | None = None) -> list[FlagEvent]:
    """Every flag and unflag, newest first; only those of `task_type` when given."""
    rows = con.execute(
        f"select {_COLUMNS} from flags where $t is null or task_type = $t "
        "order by flagged_at desc, flag_id desc",
        {"t": task_type},
    ).fetchall()
    return [FlagEvent(*r) for r in rows]


def current_flags(con: duckdb.DuckDBPyConnection) -> dict[str, FlagEvent]:
    """The task types flagged now (latest row is a flag), keyed by task type."""
    rows = con.execute(
        f"select {_COLUMNS} from flags "
        "qualify row_number() over (partition by task_type order by flagged_at desc, "
        "flag_id desc) = 1 "
        "order by task_type"
    ).fetchall()
    return {r[1]: FlagEvent(*r) for r in rows if r[2] == "flag"}
