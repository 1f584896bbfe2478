"""Hostile input at the edges of tierwatch, each a case the hostile-input probe found (issue
14): configs, database files, folders and flags that once printed a traceback. Each gets a
one-line message naming what is wrong and what to do, exit status 2, and the store as it was.
"""

from __future__ import annotations

import json
import os
import resource
import shutil
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_cli_ingest import GOOD

from tierwatch.ingest.config import ConfigError, parse_config
from tierwatch.ingest.store import SCHEMA_VERSION


def tierwatch(*args: str, cwd: Path, preexec_fn=None, user: int | None = None):
    command = [sys.executable, "-m", "tierwatch", *args]
    if user is not None:  # as another (unprivileged) user: root reads every folder
        command = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", *command]
    return subprocess.run(
        command, cwd=cwd, capture_output=True, text=True, timeout=120, preexec_fn=preexec_fn
    )


def write(path: Path, records) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def message(run) -> str:
    """The one-line error of a run that must fail cleanly."""
    assert run.returncode == 2, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr + run.stdout, run.stderr
    lines = [line for line in run.stderr.splitlines() if line.startswith("tierwatch: error: ")]
    assert lines, run.stderr
    return lines[0]


@pytest.fixture
def loaded(tmp_path) -> Path:
    write(tmp_path / "a.jsonl", [GOOD, {**GOOD, "task_id": "t2"}])
    run = tierwatch("ingest", "a.jsonl", cwd=tmp_path)
    assert run.returncode == 0, run.stderr
    return tmp_path


def rows(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select (select count(*) from attempts), (select count(*) from ingested_files)"
        ).fetchone()


# --- configs ----------------------------------------------------------------------------


def test_config_that_is_not_utf8(loaded):
    (loaded / "tierwatch.toml").write_bytes("# prix en \xe9t\xe9\n".encode("latin-1"))
    text = message(tierwatch("report", "summary", "--config", "tierwatch.toml", cwd=loaded))
    assert "tierwatch.toml: line 1 is not valid UTF-8" in text and "save the file as UTF-8" in text


def test_config_with_prices_a_number(loaded):
    (loaded / "tierwatch.toml").write_text("prices = 5\n")
    text = message(tierwatch("report", "costs", "--config", "tierwatch.toml", cwd=loaded))
    assert "prices is 5, must be a list of [[prices]] tables" in text


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_config_nan_and_inf_are_refused(loaded, value):
    (loaded / "tierwatch.toml").write_text(f"failure_cost_usd = {value}\n")
    text = message(tierwatch("report", "costs", "--config", "tierwatch.toml", cwd=loaded))
    rule = "a number >= 0" if value.startswith("-") else "a finite number >= 0"
    assert f"failure_cost_usd is {value}, must be {rule}" in text
    toml = '[[tiers]]\nname = "haiku"\ninput_usd_per_mtok = {}\noutput_usd_per_mtok = 4\n'
    (loaded / "prices.toml").write_text(toml.format(value))
    text = message(tierwatch("report", "costs", "--config", "prices.toml", cwd=loaded))
    assert "tiers[1]: input_usd_per_mtok is" in text and rule in text


def test_verdict_with_min_tasks_per_day_inf(loaded):
    (loaded / "tierwatch.toml").write_text("min_tasks_per_day = inf\n")
    text = message(tierwatch("report", "verdict", "--config", "tierwatch.toml", cwd=loaded))
    assert "min_tasks_per_day is inf, must be a finite number >= 0" in text


# every key of the config with a value of every TOML type: a ConfigError or a Config, never
# another exception
VALUES = st.one_of(
    st.integers(-5, 5),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=5),
    st.booleans(),
    st.dates(),
    st.datetimes(),
    st.lists(st.one_of(st.integers(), st.text(max_size=3)), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.just([{}]),
    st.just([{"name": "a"}]),
)
TIER = {"name": "haiku", "input_usd_per_mtok": 1, "output_usd_per_mtok": 2, "models": ["*h*"]}
PRICE = {"model": "m", "from": "2026-01-01", "input_usd_per_mtok": 1, "output_usd_per_mtok": 2}
TOP = ["failure_cost_usd", "engineering_usd_per_month", "min_tasks_per_day", "stale_after_days"]
TOP += ["tiers", "prices", "ladder", "model_prices", "sources"]


@st.composite
def configs(draw) -> dict:
    where = draw(st.sampled_from(["top", "tier", "ladder_tier", "price", "source"]))
    value = draw(VALUES)
    if where == "top":
        return {draw(st.sampled_from(TOP)): value}
    if where in ("tier", "ladder_tier"):
        key = draw(st.sampled_from([*TIER, "representative", "cached_input_usd_per_mtok"]))
        raw = {"tiers": [{**TIER, key: value}]}
        return {**raw, "ladder": "anthropic"} if where == "ladder_tier" else raw
    if where == "price":
        key = draw(st.sampled_from([*PRICE, "cached_input_usd_per_mtok"]))
        return {"prices": [{**PRICE, key: value}]}
    return {"sources": {"otlp": {"planner_tier": value}}}


@settings(max_examples=400, deadline=None)
@given(configs())
def test_no_config_value_gives_anything_but_a_config_error(raw):
    try:
        parse_config(raw, source="tierwatch.toml")
    except ConfigError as e:
        assert str(e).startswith("tierwatch.toml")


# --- database files ---------------------------------------------------------------------


def test_sqlite_file_as_db_is_named_and_nothing_is_downloaded(tmp_path):
    sqlite3.connect(tmp_path / "app.db").execute("create table t (a)").connection.commit()
    before = (tmp_path / "app.db").read_bytes()
    write(tmp_path / "a.jsonl", [GOOD])
    for args in (["ingest", "a.jsonl"], ["report", "summary"], ["files"]):
        text = message(tierwatch(*args, "--db", "app.db", cwd=tmp_path))
        assert "app.db is not a DuckDB database (an SQLite database)" in text
        assert "extension" not in text
    assert (tmp_path / "app.db").read_bytes() == before


def test_extensions_are_never_autoloaded():
    from tierwatch.ingest.store import connect_memory

    con = connect_memory()
    settings_ = dict(
        con.execute(
            "select name, value from duckdb_settings() where name in "
            "('autoload_known_extensions', 'autoinstall_known_extensions')"
        ).fetchall()
    )
    assert settings_ == {
        "autoload_known_extensions": "false",
        "autoinstall_known_extensions": "false",
    }


def test_another_applications_duckdb_file_is_left_alone(tmp_path):
    with duckdb.connect(str(tmp_path / "shop.duckdb")) as con:
        con.execute("create table orders (id integer)")
        con.execute("insert into orders values (1), (2)")
    write(tmp_path / "a.jsonl", [GOOD])
    text = message(tierwatch("ingest", "a.jsonl", "--db", "shop.duckdb", cwd=tmp_path))
    assert "shop.duckdb belongs to something else: it holds tables (orders)" in text
    with duckdb.connect(str(tmp_path / "shop.duckdb"), read_only=True) as con:
        tables = con.execute("select table_name from information_schema.tables").fetchall()
        assert tables == [("orders",)]
        assert con.execute("select count(*) from orders").fetchone() == (2,)


@pytest.mark.parametrize("version", [SCHEMA_VERSION + 1, SCHEMA_VERSION + 3])
def test_a_store_from_a_newer_tierwatch_is_neither_read_nor_written(loaded, version):
    db = loaded / "tierwatch.duckdb"
    with duckdb.connect(str(db)) as con:
        con.execute("insert into schema_version (version) values (?)", [version])
    before = rows(db)
    write(loaded / "b.jsonl", [{**GOOD, "task_id": "t3"}])
    for args in (["ingest", "b.jsonl"], ["report", "summary"]):
        text = message(tierwatch(*args, cwd=loaded))
        assert f"has schema version {version}, written by a newer tierwatch" in text
        assert "pip install -U tierwatch" in text
    assert rows(db) == before


def damage(db: Path) -> None:
    """Overwrite the middle of the file: DuckDB's block checksums catch it on read."""
    size = db.stat().st_size
    with open(db, "r+b") as f:
        f.seek(size // 4)
        f.write(b"\xff" * (size // 2))


def test_damaged_database_in_the_cli(loaded):
    write(loaded / "more.jsonl", [{**GOOD, "task_id": f"m{i}"} for i in range(20_000)])
    assert tierwatch("ingest", "more.jsonl", cwd=loaded).returncode == 0
    damage(loaded / "tierwatch.duckdb")
    text = message(tierwatch("report", "summary", cwd=loaded))
    assert "the database file is damaged" in text and "Restore it from a copy" in text


def test_truncated_database_in_the_cli(loaded):
    db = loaded / "tierwatch.duckdb"
    db.write_bytes(db.read_bytes()[:5000])
    for args in (["report", "summary"], ["ingest", "a.jsonl"], ["files"]):
        text = message(tierwatch(*args, cwd=loaded))
        assert "cannot open tierwatch.duckdb" in text


def test_a_killed_loads_staging_rows_are_cleared_on_the_next_open(loaded):
    db = loaded / "tierwatch.duckdb"
    with duckdb.connect(str(db)) as con:  # what a load killed between blocks leaves
        con.execute("insert into staging_attempts select * from attempts")
        con.execute("insert into staging_rejects values (9, 'x', 1, null, 'r', 'raw', null)")
    assert tierwatch("ingest", cwd=loaded).returncode == 0  # a writer's open, no files
    with duckdb.connect(str(db), read_only=True) as con:
        left = con.execute(
            "select (select count(*) from staging_attempts) + "
            "(select count(*) from staging_rejects)"
        ).fetchone()
    assert left == (0,)


def full_disk(limit: int):
    """A child whose files may grow to `limit` bytes: past it writes fail with EFBIG, as on
    a full disk (SIGXFSZ ignored, so the write returns the error instead of killing)."""

    def apply() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_full_disk_is_a_message_and_the_store_keeps_what_it_had(loaded):
    db = loaded / "tierwatch.duckdb"
    before = rows(db)
    big = [{**GOOD, "task_id": f"big{i}", "fleet": "x" * 200} for i in range(60_000)]
    write(loaded / "big.jsonl", big)
    write(loaded / "after.jsonl", [{**GOOD, "task_id": "after"}])
    limit = db.stat().st_size + (1 << 20)
    run = tierwatch("ingest", "big.jsonl", "after.jsonl", cwd=loaded, preexec_fn=full_disk(limit))
    text = message(run)
    assert "big.jsonl: not loaded: the disk is full" in text
    assert "the 1 files after it were not tried" in text
    assert rows(db) == before
    assert tierwatch("ingest", "big.jsonl", cwd=loaded).returncode == 0  # room again: it loads
    assert rows(db)[0] == before[0] + len(big)


# --- folders ----------------------------------------------------------------------------


@pytest.mark.skipif(not shutil.which("setpriv"), reason="needs setpriv to drop root")
def test_input_under_a_folder_that_cannot_be_read(tmp_path):
    folder = tmp_path / "logs"
    (folder / "private").mkdir(parents=True)
    write(folder / "a.jsonl", [GOOD])
    write(folder / "private" / "b.jsonl", [{**GOOD, "task_id": "t2"}])
    (folder / "private").chmod(0o000)
    tmp_path.chmod(0o777)
    user = None if os.geteuid() else 65534  # nobody: root would read it anyway
    try:
        for arg, named in (("logs", "logs/private"), ("logs/private/b.jsonl",) * 2):
            text = message(tierwatch("ingest", arg, "--db", "t.duckdb", cwd=tmp_path, user=user))
            assert f"error: {named}: permission denied" in text, text
        assert not (tmp_path / "t.duckdb").exists()  # refused before anything was written
    finally:
        (folder / "private").chmod(0o755)


# --- flags ------------------------------------------------------------------------------


def test_fail_on_a_key_that_is_not_a_number(loaded):
    text = message(tierwatch("report", "drift", "--fail-on", "first_day>0", cwd=loaded))
    assert "the drift report has no number 'first_day'" in text


def test_fail_on_a_misspelt_key_on_an_empty_store(tmp_path):
    assert tierwatch("ingest", cwd=tmp_path).returncode == 0  # an empty store
    text = message(tierwatch("report", "summary", "--fail-on", "falure_rate>0.1", cwd=tmp_path))
    assert "has no number 'falure_rate'" in text and "failure_rate" in text
    ok = tierwatch("report", "summary", "--fail-on", "failure_rate>0.1", cwd=tmp_path)
    assert ok.returncode == 0, ok.stderr  # an empty store passes a gate it can read
