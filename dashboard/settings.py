"""How a dashboard was started, as data: the environment `tierwatch dashboard` sets.

Kept apart from the pages (no streamlit import) so the CLI can read it cheaply.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path

DB_ENV = "TIERWATCH_DB"
CONFIG_ENV = "TIERWATCH_CONFIG"
READ_ONLY_ENV = "TIERWATCH_READ_ONLY"
MAX_UPLOAD_ENV = "TIERWATCH_MAX_UPLOAD_MB"
MAX_UPLOAD_ROWS_ENV = "TIERWATCH_MAX_UPLOAD_ROWS"
DEFAULT_MAX_UPLOAD_MB = 200.0
DEFAULT_MAX_UPLOAD_ROWS = 5_000_000
APP = Path(__file__).parent / "app.py"


@dataclasses.dataclass(frozen=True)
class Settings:
    db: Path
    config_path: str | None
    read_only: bool  # hides upload and flag editing
    max_upload_mb: float  # an upload over this is refused
    max_upload_rows: int  # a Parquet upload whose metadata says more rows is refused


def _env_number(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        value = float(raw) if raw else default
    except ValueError:
        return default
    return value if value > 0 else default


NOT_READ_ONLY = ("", "0", "false", "no", "off", "n", "f")


def read_only(value: str | None) -> bool:
    """TIERWATCH_READ_ONLY as asked: off only for an empty value or a word for false (as
    the CLI's --read-only reads it); anything else, even a typo, is read-only."""
    return (value or "").strip().lower() not in NOT_READ_ONLY


def settings() -> Settings:
    return Settings(
        db=Path(os.environ.get(DB_ENV) or "tierwatch.duckdb"),
        config_path=os.environ.get(CONFIG_ENV) or None,
        read_only=read_only(os.environ.get(READ_ONLY_ENV)),
        max_upload_mb=_env_number(MAX_UPLOAD_ENV, DEFAULT_MAX_UPLOAD_MB),
        max_upload_rows=int(_env_number(MAX_UPLOAD_ROWS_ENV, DEFAULT_MAX_UPLOAD_ROWS)),
    )
