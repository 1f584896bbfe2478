"""Config validation, store migrations, and the messages a person sees when they go wrong."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from tierwatch.ingest.config import ConfigError, load_config, parse_config
from tierwatch.ingest.store import (
    SCHEMA_VERSION,
    StoreLocked,
    StoreMissing,
    connect,
    open_store,
    schema_version,
)


def test_defaults_are_the_articles_prices():
    c = load_config(None)
    assert c.ladder == ("haiku", "sonnet", "opus")
    prices = [(t.price.input_usd_per_mtok, t.price.output_usd_per_mtok) for t in c.tiers]
    assert prices == [(0.80, 4.00), (3.00, 15.00), (15.00, 75.00)]
    assert c.failure_cost_usd == 50
    assert c.tier_for_model("claude-3-5-haiku-20241022") == "haiku"
    assert c.tier_for_model("Claude-Opus-4") == "opus"
    assert c.tier_for_model("gpt-4o") is None


def test_the_issue_example_config(tmp_path):
    f = tmp_path / "tierwatch.toml"
    f.write_text(
        textwrap.dedent(
            """
            failure_cost_usd = 80
            [[tiers]]
            name = "mini"
            input_usd_per_mtok = 0.15
            output_usd_per_mtok = 0.60
            models = ["gpt-4o-mini*"]
            [[tiers]]
            name = "gpt4o"
            input_usd_per_mtok = 2.5
            output_usd_per_mtok = 10
            cached_input_usd_per_mtok = 1.25
            models = ["gpt-4o*"]
            [[prices]]
            model = "gpt-4o-2024-*"
            from = 2026-03-01
            input_usd_per_mtok = 2.0
            output_usd_per_mtok = 8.0
            """
        )
    )
    c = load_config(f)
    assert c.ladder == ("mini", "gpt4o")
    assert c.failure_cost_usd == 80
    assert c.tiers[0].price.cached_input_usd_per_mtok == 0.15  # defaults to the input price
    assert c.tiers[1].price.cached_input_usd_per_mtok == 1.25
    assert c.prices[0].starts.isoformat() == "2026-03-01"
    # cheapest first: gpt-4o-mini matches mini before gpt-4o* is tried
    assert c.tier_for_model("gpt-4o-mini-2024-07-18") == "mini"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"failure_cost": 1}, "unknown key 'failure_cost'"),
        ({"failure_cost_usd": -3}, "failure_cost_usd is -3, must be a number >= 0"),
        ({"failure_cost_usd": "50"}, "failure_cost_usd is '50', must be a number >= 0"),
        ({"tiers": []}, "must list at least one tier"),
        ({"tiers": [{"input_usd_per_mtok": 1, "output_usd_per_mtok": 1}]}, "tiers[1]: name is"),
        ({"tiers": [{"name": "a", "output_usd_per_mtok": 1}]}, "input_usd_per_mtok is missing"),
        (
            {"tiers": [{"name": "a", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1}] * 2},
            "tier name 'a' appears twice",
        ),
        (
            {"tiers": [{"name": "a", "input_usd_per_mtok": 1, "output_usd_per_mtok": 1, "x": 1}]},
            "tiers[1]: unknown key 'x'",
        ),
        (
            {"prices": [{"model": "m", "from": "March", "input_usd_per_mtok": 1}]},
            "prices[1]: from is 'March', must be a date like 2026-03-01",
        ),
    ],
)
def test_bad_config_names_key_and_problem(raw, message):
    with pytest.raises(ConfigError, match=None) as e:
        parse_config(raw, source="tw.toml")
    assert message in str(e.value)
    assert str(e.value).startswith("tw.toml")


def test_config_file_problems(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("tiers = [")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(bad)


def test_unknown_tier_lookup():
    with pytest.raises(ConfigError, match="unknown tier 'gpt': the ladder is haiku < sonnet"):
        load_config(None).tier("gpt")


def test_new_store_is_migrated_and_versioned(tmp_path):
    db = tmp_path / "tw.duckdb"
    with open_store(db, read_only=False) as con:
        assert schema_version(con) == SCHEMA_VERSION
        tables = {
            r[0] for r in con.execute("select table_name from information_schema.tables").fetchall()
        }
    assert {"attempts", "tasks", "rejects", "ingested_files", "downstream_failures"} <= tables
    with open_store(db, read_only=False) as con:  # migrating again is a no-op
        assert con.execute("select count(*) from schema_version").fetchone()[0] == SCHEMA_VERSION


def test_reading_a_missing_or_foreign_database(tmp_path):
    with pytest.raises(StoreMissing, match="no tierwatch database at"):
        with open_store(tmp_path / "none.duckdb"):
            pass
    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    with pytest.raises(StoreMissing, match="is not a tierwatch database"):
        with open_store(other):
            pass


def test_locked_database_names_the_holder(tmp_path):
    db = tmp_path / "tw.duckdb"
    with open_store(db, read_only=False):
        pass
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline().strip() == "ready"
        with pytest.raises(StoreLocked) as e:
            connect(db, read_only=False)
        assert f"process {holder.pid}" in str(e.value)
        assert "Wait for it to finish or stop it" in str(e.value)
    finally:
        holder.kill()
        holder.wait()


def test_connections_draw_no_progress_bar_on_stdout(tmp_path):
    # DuckDB's bar for long statements would land in `tierwatch ingest --json` output
    con = connect(tmp_path / "tw.duckdb", read_only=False)
    try:
        setting = con.execute("select current_setting('enable_progress_bar')").fetchall()
        assert setting == [(False,)]
    finally:
        con.close()


def test_a_version_5_store_gains_who_loaded_each_file(tmp_path):
    """Migration 6 adds ingested_files.loaded_by to a store that predates it; a load from a
    terminal records the operating-system user, older rows have none."""
    import getpass
    import json

    import duckdb

    from tierwatch.ingest.load import ingest_paths

    log = tmp_path / "a.jsonl"
    record = {"task_id": "t1", "ts": "2026-03-01T00:00:00Z", "task_type": "x",
              "tier": "haiku", "input_tokens": 1, "output_tokens": 1}  # fmt: skip
    log.write_text(json.dumps(record) + "\n")
    db = tmp_path / "t.duckdb"
    ingest_paths(db, [log], load_config(None))
    with duckdb.connect(str(db)) as con:  # as version 5 left it
        con.execute("alter table ingested_files drop column loaded_by")
        con.execute("drop table task_rollup")  # migration 7's
        con.execute("delete from schema_version where version >= 6")
    second = tmp_path / "b.jsonl"
    second.write_text(json.dumps({**record, "task_id": "t2"}) + "\n")
    ingest_paths(db, [second], load_config(None))
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("select path, loaded_by from ingested_files order by file_id").fetchall()
    assert [(r[0].rsplit("/", 1)[-1], r[1]) for r in rows] == [
        ("a.jsonl", None),
        ("b.jsonl", getpass.getuser()),
    ]
