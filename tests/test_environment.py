"""The TIERWATCH_* variables: declared once, read in one place, a bad value named at start."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tierwatch.ingest import environment
from tierwatch.ingest.environment import SettingError


def test_unset_or_empty_gives_the_default():
    assert environment.value("db", {}) == Path("tierwatch.duckdb")
    assert environment.value("max_upload_mb", {"TIERWATCH_MAX_UPLOAD_MB": ""}) == 200.0
    assert environment.value("max_upload_rows", {}) == 5_000_000
    assert environment.value("config", {}) is None
    assert environment.value("ingest_memory", {}) == "1GB"


def test_values_are_read_by_their_kind():
    assert environment.value("max_upload_mb", {"TIERWATCH_MAX_UPLOAD_MB": "0.5"}) == 0.5
    assert environment.value("max_upload_rows", {"TIERWATCH_MAX_UPLOAD_ROWS": "1_000"}) == 1000
    assert environment.value("ingest_memory", {"TIERWATCH_INGEST_MEMORY": " 4GiB"}) == "4GiB"
    assert environment.value("db", {"TIERWATCH_DB": "x/y.duckdb"}) == Path("x/y.duckdb")


@pytest.mark.parametrize(
    ("text", "on"),
    [
        ("", False),
        ("0", False),
        ("off", False),
        ("No", False),
        ("1", True),
        ("yes", True),
        ("ture", True),
    ],  # fmt: skip
)
def test_read_only_fails_closed(text, on):
    # only an empty value or a word for false turns it off; a typo keeps it read-only
    assert environment.value("read_only", {"TIERWATCH_READ_ONLY": text}) is on


@pytest.mark.parametrize(
    ("variable", "text", "looks_like"),
    [
        ("TIERWATCH_MAX_UPLOAD_MB", "lots", "a number of megabytes above 0"),
        ("TIERWATCH_MAX_UPLOAD_MB", "-5", "a number of megabytes above 0"),
        ("TIERWATCH_MAX_UPLOAD_MB", "nan", "a number of megabytes above 0"),
        ("TIERWATCH_MAX_UPLOAD_ROWS", "2.5", "a whole number above 0"),
        ("TIERWATCH_MAX_UPLOAD_ROWS", "0", "a whole number above 0"),
        ("TIERWATCH_INGEST_MEMORY", "4 gigs", "a size like 2GB"),
        ("TIERWATCH_INGEST_MEMORY", "1GB'; drop table attempts; --", "a size like 2GB"),
    ],
)
def test_a_bad_value_is_an_error_naming_the_variable(variable, text, looks_like):
    name = next(s.name for s in environment.SETTINGS if s.variable == variable)
    with pytest.raises(SettingError) as e:
        environment.value(name, {variable: text})
    assert str(e.value).startswith(f"{variable} is {text!r}, must be {looks_like}")
    with pytest.raises(SettingError):
        environment.check({variable: text})


def test_every_command_stops_at_start_on_a_bad_variable(tmp_path):
    env = {**os.environ, "TIERWATCH_MAX_UPLOAD_MB": "lots"}
    run = subprocess.run(
        [sys.executable, "-m", "tierwatch", "files", "--db", str(tmp_path / "t.duckdb")],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.startswith("tierwatch: error: TIERWATCH_MAX_UPLOAD_MB is 'lots'")
    assert "Traceback" not in run.stderr
