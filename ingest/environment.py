"""The environment variables tierwatch reads, each declared once, as data.

Every `TIERWATCH_*` variable is a `Setting` here: its name, variable, default, what it does
and how its text is read. `value(name)` is the one place a variable is read, and a bad
value is a `SettingError` naming the variable and what it should look like, never a
silent fallback to the default. `check()` reads them all; the command line and the
dashboard call it when they start. docs/settings.md's table is written from `SETTINGS`
(docs/write_settings.py; a test keeps them equal). The command-line options that a
variable backs (`--db`, `--config`, ...) take its name from here too.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path


class SettingError(ValueError):
    """A TIERWATCH_* variable whose value cannot be read."""


NOT_TRUE = ("", "0", "false", "no", "off", "n", "f")


def _path(text: str) -> Path:
    return Path(text)


def _flag(text: str) -> bool:
    # off only for an empty value or a word for false: anything else, even a typo, is on
    # (a read-only switch must fail closed)
    return text.strip().lower() not in NOT_TRUE


def _positive(text: str) -> float:
    number = float(text)
    if not number > 0 or number == float("inf"):
        raise ValueError(text)
    return number


def _count(text: str) -> int:
    number = int(text.replace("_", ""))
    if number <= 0:
        raise ValueError(text)
    return number


def _size(text: str) -> str:
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", text.strip(), re.IGNORECASE):
        raise ValueError(text)
    return text.strip()


def _text(text: str) -> str:
    return text


@dataclass(frozen=True)
class Setting:
    name: str
    variable: str
    default: object
    help: str
    read: Callable[[str], object]
    looks_like: str  # what a good value looks like, for the message about a bad one


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "db",
        "TIERWATCH_DB",
        Path("tierwatch.duckdb"),
        "the DuckDB store every command and the dashboard use (`--db`)",
        _path,
        "a file name",
    ),
    Setting(
        "config",
        "TIERWATCH_CONFIG",
        None,
        "the tierwatch.toml with the ladder, prices and settings (`--config`); without one, "
        "the built-in Haiku < Sonnet < Opus defaults",
        _path,
        "a file name",
    ),
    Setting(
        "ingest_memory",
        "TIERWATCH_INGEST_MEMORY",
        "1GB",
        "DuckDB's memory limit for one load; past it DuckDB spills to disk",
        _size,
        "a size like 2GB",
    ),
    Setting(
        "read_only",
        "TIERWATCH_READ_ONLY",
        False,
        "the dashboard without its Upload page and flag editing (`--read-only`); on for any "
        "value but empty, 0, false, no, off",
        _flag,
        "1 or 0",
    ),
    Setting(
        "max_upload_mb",
        "TIERWATCH_MAX_UPLOAD_MB",
        200.0,
        "the largest file the dashboard's Upload page accepts, in MB (`--max-upload-mb`)",
        _positive,
        "a number of megabytes above 0, like 200",
    ),
    Setting(
        "max_upload_rows",
        "TIERWATCH_MAX_UPLOAD_ROWS",
        5_000_000,
        "a Parquet upload whose footer says more rows is refused before a row is read",
        _count,
        "a whole number above 0, like 5000000",
    ),
    Setting(
        "collect_token",
        "TIERWATCH_COLLECT_TOKEN",
        None,
        "the token `tierwatch collect` requires of senders (`--token`; Bearer, or Basic password)",
        _text,
        "any text",
    ),
)
BY_NAME = {s.name: s for s in SETTINGS}


def value(name: str, environ: dict | None = None):
    """Setting `name` as the environment gives it (its default when unset or empty)."""
    setting = BY_NAME[name]
    text = (os.environ if environ is None else environ).get(setting.variable)
    if text is None or (text == "" and setting.read is not _flag):
        return setting.default
    try:
        return setting.read(text)
    except ValueError:
        raise SettingError(
            f"{setting.variable} is {text!r}, must be {setting.looks_like}; set it again "
            f"or unset it for the default ({shown(setting.default)})"
        ) from None


def check(environ: dict | None = None) -> None:
    """Read every setting: SettingError for the first bad one."""
    for setting in SETTINGS:
        value(setting.name, environ)


def variable(name: str) -> str:
    """The environment variable of setting `name`."""
    return BY_NAME[name].variable


def default(name: str):
    """Setting `name`'s default."""
    return BY_NAME[name].default


def shown(default) -> str:
    """A default as the messages and docs show it."""
    if default is None:
        return "none"
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, int):
        return f"{default:,}"
    if isinstance(default, float):
        return f"{default:g}"
    return str(default)
