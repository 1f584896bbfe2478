"""A store's records written as a lake: Parquet partitioned by day (and fleet), the layout a
distributed engine reads where a fleet's logs outgrow one machine (docs/scale.md).

    LAKE/_tierwatch_lake.json                       layout, columns, and every export
    LAKE/attempts/day=2026-01-05/fleet=acme/part-0.parquet
    LAKE/downstream_failures/day=2026-01-05/part-0.parquet

Partition values are in the folder names only (Hive style: URL-escaped, a missing fleet is
`fleet=__HIVE_DEFAULT_PARTITION__`), as Spark, DuckDB and Arrow read them. An export
replaces each day it writes, whole, so exporting a day again never doubles it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import shutil
import uuid
from pathlib import Path

import duckdb

from tierwatch.ingest.store import sql_file
from tierwatch.ingest.validate import sql_literal

LAYOUT = 1
MANIFEST = "_tierwatch_lake.json"

# table: (the SQL file of its rows, the partition columns, in folder order)
TABLES = {
    "attempts": ("lake_attempts.sql", ("day", "fleet")),
    "downstream_failures": ("lake_downstream_failures.sql", ("day",)),
}


class LakeError(RuntimeError):
    """The lake cannot be written as asked; the message says what to do."""


@dataclasses.dataclass
class LakeExport:
    """What one export wrote."""

    lake: Path
    rows: dict[str, int]  # table -> rows written
    days: list[dt.date]  # the days written, each replaced whole
    replaced: list[dt.date]  # of those, the days the lake held before


def export_lake(
    con: duckdb.DuckDBPyConnection,
    lake: str | os.PathLike,
    since: dt.date | None = None,
    until: dt.date | None = None,
    store_label: str | None = None,
) -> LakeExport:
    """Write the store's attempts and downstream failures of the days from `since` to
    `until` (inclusive; None for no bound) into the lake folder `lake`.

    Each table is first written into a scratch folder inside the lake; then every day
    written replaces that day's folder in the lake, so a reader never sees a day twice and
    a failed export leaves the lake as it was (but for the scratch folder, removed).
    """
    lake = Path(lake)
    _check_folder(lake)
    created = not lake.exists()
    lake.mkdir(parents=True, exist_ok=True)
    scratch = lake / f".export-{uuid.uuid4().hex}"
    params = {"since": since, "until": until}
    rows: dict[str, int] = {}
    written: dict[str, list[str]] = {}
    try:
        for table, (rows_sql, partition) in TABLES.items():
            target = scratch / table
            target.parent.mkdir(parents=True, exist_ok=True)
            rows[table] = con.execute(
                f"copy ({sql_file(rows_sql)}) to {sql_literal(str(target))} (format parquet, "
                f"partition_by ({', '.join(partition)}), filename_pattern 'part-{{i}}', "
                "compression zstd)",
                params,
            ).fetchone()[0]
            written[table] = sorted(p.name for p in target.glob("day=*")) if rows[table] else []
        if not any(rows.values()):
            raise LakeError(_nothing_to_export(con, since, until, store_label))
        before = {
            name
            for table in TABLES
            for name in _day_folders(lake / table)
            if name in written[table]
        }
        for table, days in written.items():
            for name in days:
                _replace(scratch / table / name, lake / table / name, scratch / "old" / table)
    except BaseException:
        _put_back(scratch / "old", lake)
        shutil.rmtree(scratch, ignore_errors=True)
        if created:
            shutil.rmtree(lake, ignore_errors=True)
        raise
    shutil.rmtree(scratch, ignore_errors=True)
    days = sorted({_day(n) for names in written.values() for n in names})
    result = LakeExport(lake=lake, rows=rows, days=days, replaced=sorted(_day(n) for n in before))
    _record(lake, result, since, until, store_label)
    return result


def _check_folder(lake: Path) -> None:
    if lake.exists() and not lake.is_dir():
        raise LakeError(f"{lake} is a file; give --lake a folder (new or a tierwatch lake)")
    if lake.is_dir() and any(lake.iterdir()) and not (lake / MANIFEST).exists():
        raise LakeError(
            f"{lake} holds files but is not a tierwatch lake (it has no {MANIFEST}); give "
            "--lake a new or empty folder, or one an earlier tierwatch export wrote"
        )
    if (lake / MANIFEST).exists():
        layout = _manifest(lake).get("layout")
        if layout != LAYOUT:
            raise LakeError(
                f"{lake} is a tierwatch lake of layout {layout}, this tierwatch writes layout "
                f"{LAYOUT}; export into a new folder"
            )


def _manifest(lake: Path) -> dict:
    try:
        return json.loads((lake / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise LakeError(
            f"{lake / MANIFEST} cannot be read ({e}); it is the lake's own record, written by "
            "tierwatch export: restore it, or export into a new folder"
        ) from None


def _day_folders(folder: Path) -> set[str]:
    return {p.name for p in folder.glob("day=*")} if folder.is_dir() else set()


def _day(folder_name: str) -> dt.date:
    return dt.date.fromisoformat(folder_name.removeprefix("day="))


def _replace(new: Path, target: Path, trash: Path) -> None:
    """Put folder `new` where `target` is, moving the old one into `trash` first."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if target.exists():
        trash.mkdir(parents=True, exist_ok=True)
        target.rename(trash / target.name)
    new.rename(target)


def _put_back(trash: Path, lake: Path) -> None:
    """After a failure: each old day moved aside whose new folder did not arrive goes back."""
    for old in trash.glob("*/day=*") if trash.is_dir() else ():
        target = lake / old.parent.name / old.name
        if not target.exists():
            old.rename(target)


def _record(
    lake: Path, result: LakeExport, since: dt.date | None, until: dt.date | None, store: str | None
) -> None:
    """The manifest: the layout, each table's partitioning, and this export appended."""
    manifest = _manifest(lake) if (lake / MANIFEST).exists() else {"exports": []}
    manifest["layout"] = LAYOUT
    manifest["tables"] = {
        table: {"path": table, "format": "parquet", "partitioned_by": list(partition)}
        for table, (_, partition) in TABLES.items()
    }
    manifest["exports"].append(
        {
            "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "store": store,
            "since": since.isoformat() if since else None,
            "until": until.isoformat() if until else None,
            "days": [d.isoformat() for d in result.days],
            "rows": result.rows,
        }
    )
    scratch = lake / f".{MANIFEST}.{uuid.uuid4().hex}"
    scratch.write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    scratch.replace(lake / MANIFEST)


def _nothing_to_export(
    con: duckdb.DuckDBPyConnection, since: dt.date | None, until: dt.date | None, store: str | None
) -> str:
    first, last = con.execute(
        "select min(day), max(day) from (select cast(ts as date) as day from attempts "
        "union all select cast(ts as date) from downstream_failures)"
    ).fetchone()
    where = f" {store}" if store else ""
    if first is None:
        return (
            f"the store{where} holds no attempts yet; nothing was exported. "
            "Load logs with: tierwatch ingest PATH"
        )
    return (
        f"the store{where} holds no attempts or downstream failures{_bounds_text(since, until)}"
        f" (its records are from {first} to {last}); nothing was exported. Change --since "
        "or --until"
    )


def _bounds_text(since: dt.date | None, until: dt.date | None) -> str:
    if since and until:
        return f" from {since} to {until}"
    if since:
        return f" from {since} on"
    if until:
        return f" up to {until}"
    return ""
