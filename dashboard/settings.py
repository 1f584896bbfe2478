"""How a dashboard was started, as data: the environment `tierwatch dashboard` sets, read
through ingest/environment.py (where each variable is declared once).

Kept apart from the pages (no streamlit import) so the CLI can read it cheaply.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from tierwatch.ingest import environment

READ_ONLY_ENV = environment.variable("read_only")
MAX_UPLOAD_ENV = environment.variable("max_upload_mb")
MAX_UPLOAD_ROWS_ENV = environment.variable("max_upload_rows")
APP = Path(__file__).parent / "app.py"


@dataclasses.dataclass(frozen=True)
class Settings:
    db: Path
    config_path: Path | None
    read_only: bool  # hides upload and flag editing
    max_upload_mb: float  # an upload over this is refused
    max_upload_rows: int  # a Parquet upload whose metadata says more rows is refused


def settings() -> Settings:
    """The dashboard's settings from the environment; SettingError for a bad value."""
    return Settings(
        db=environment.value("db"),
        config_path=environment.value("config"),
        read_only=environment.value("read_only"),
        max_upload_mb=environment.value("max_upload_mb"),
        max_upload_rows=environment.value("max_upload_rows"),
    )
