"""Hostile files the probe found (issue 14) whose cure is a limit or a store-wide rule: gzip
bombs, lines without end, Parquet footers that lie, records wide with unknown fields, a
million rejects listed, a record hash pinned across DuckDB upgrades and rehashed stores.
Each limit's breach refuses its file with a message and stores nothing of it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import struct
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from test_cli_ingest import GOOD, tierwatch

from tierwatch.ingest import identity
from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import SCHEMA_VERSION

CONFIG = load_config(None)


def stored(db: Path) -> tuple[int, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(
            "select (select count(*) from attempts), (select count(*) from ingested_files)"
        ).fetchone()


def refused(run, *words: str) -> str:
    assert run.returncode == 2, (run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    for word in words:
        assert word in run.stderr, run.stderr
    return run.stderr


@pytest.fixture
def folder(tmp_path) -> Path:
    (tmp_path / "a.jsonl").write_text(json.dumps(GOOD) + "\n")
    assert tierwatch("ingest", "a.jsonl", cwd=tmp_path).returncode == 0
    return tmp_path


def test_gzip_bomb_is_refused_and_nothing_is_stored(folder):
    line = (json.dumps({**GOOD, "task_id": "bomb"}) + "\n").encode()
    with gzip.open(folder / "bomb.jsonl.gz", "wb", compresslevel=9) as f:
        for _ in range(60):
            f.write(line * 20_000)  # ~130 MB of one record repeated: about 600x
    size = (folder / "bomb.jsonl.gz").stat().st_size
    assert 130e6 / size > 100  # past the default max_gzip_expansion
    refused(tierwatch("ingest", "bomb.jsonl.gz", cwd=folder), "bomb.jsonl.gz: expands past")
    assert stored(folder / "tierwatch.duckdb") == (1, 1)
    # the setting is the user's: a fleet whose logs do compress this well raises it
    (folder / "tierwatch.toml").write_text("max_gzip_expansion = 2000\n")
    run = tierwatch("ingest", "bomb.jsonl.gz", "--config", "tierwatch.toml", cwd=folder)
    assert run.returncode == 0, run.stderr
    assert "loaded 1, duplicates 1199999" in run.stdout


def test_gzip_of_text_with_no_line_end_is_refused_with_bounded_memory(folder):
    with gzip.open(folder / "noline.jsonl.gz", "wb", compresslevel=9) as f:
        for _ in range(30):
            f.write(b"a" * 10_000_000)
    text = refused(tierwatch("ingest", "noline.jsonl.gz", cwd=folder), "noline.jsonl.gz")
    assert "expands past" in text or "is longer than" in text
    assert stored(folder / "tierwatch.duckdb") == (1, 1)


def test_a_line_past_max_record_mb_refuses_its_file(folder):
    (folder / "tierwatch.toml").write_text("max_record_mb = 1\n")
    big = {**GOOD, "task_id": "big", "note": "n" * 1_100_000}
    (folder / "long.jsonl").write_text(json.dumps(GOOD) + "\n" + json.dumps(big) + "\n")
    run = tierwatch("ingest", "long.jsonl", "--config", "tierwatch.toml", cwd=folder)
    refused(run, "long.jsonl: line 2 is longer than 1 MB", "max_record_mb")
    (folder / "long.csv").write_text(
        "task_id,ts,task_type,tier,input_tokens,output_tokens,note\n"
        + f"c1,2026-03-01,x,haiku,1,1,{'n' * 1_100_000}\n"
    )
    run = tierwatch("ingest", "long.csv", "--config", "tierwatch.toml", cwd=folder)
    refused(run, "long.csv: line 2 is longer than 1 MB")
    assert stored(folder / "tierwatch.duckdb") == (1, 1)


def footer_claiming(path: Path, claimed: int, out: Path) -> None:
    """Copy a one-row-group Parquet file with its footer's num_rows rewritten to `claimed`
    (same varint length), the row group's own count left alone: a footer that lies."""
    data = bytearray(path.read_bytes())
    (length,) = struct.unpack("<I", data[-8:-4])
    start = len(data) - 8 - length
    actual = pq.ParquetFile(path).metadata.num_rows

    def varint(n: int) -> bytes:  # thrift compact i64: zigzag, then base-128
        z, out_ = (n << 1) ^ (n >> 63), bytearray()
        while True:
            byte, z = z & 0x7F, z >> 7
            out_.append(byte | (0x80 if z else 0))
            if not z:
                return bytes(out_)

    old, new = varint(actual), varint(claimed)
    assert len(old) == len(new)
    footer = bytes(data[start:-8])
    for at in range(len(footer)):  # the occurrence that is FileMetaData.num_rows
        if footer[at : at + len(old)] != old:
            continue
        trial = bytearray(data)
        trial[start + at : start + at + len(old)] = new
        out.write_bytes(trial)
        try:
            meta = pq.ParquetFile(out).metadata
        except (OSError, pa.ArrowException):
            continue
        if meta.num_rows == claimed and meta.row_group(0).num_rows == actual:
            return
    raise AssertionError("no num_rows field found in the footer")


def test_parquet_holding_more_rows_than_its_footer_says_is_refused(folder):
    n = 5000
    table = pa.table(
        {
            "task_id": [f"p{i}" for i in range(n)],
            "ts": ["2026-03-01T12:00:00Z"] * n,
            "task_type": ["x"] * n,
            "tier": ["haiku"] * n,
            "input_tokens": pa.array([1] * n, pa.int64()),
            "output_tokens": pa.array([1] * n, pa.int64()),
        }
    )
    pq.write_table(table, folder / "honest.parquet", row_group_size=n)
    footer_claiming(folder / "honest.parquet", 1000, folder / "lying.parquet")
    assert pq.ParquetFile(folder / "lying.parquet").metadata.num_rows == 1000
    text = refused(tierwatch("ingest", "lying.parquet", cwd=folder), "lying.parquet")
    assert "holds more rows than its footer says (1,000)" in text
    assert stored(folder / "tierwatch.duckdb") == (1, 1)
    run = tierwatch("ingest", "honest.parquet", cwd=folder)
    assert run.returncode == 0 and "loaded 5000" in run.stdout


def test_parquet_attempt_past_32_bits_is_a_reject(folder):
    table = pa.table(
        {
            "task_id": ["p1", "p2"],
            "ts": ["2026-03-01T12:00:00Z"] * 2,
            "task_type": ["x"] * 2,
            "tier": ["haiku"] * 2,
            "input_tokens": pa.array([1, 1], pa.int64()),
            "output_tokens": pa.array([1, 1], pa.int64()),
            "attempt": pa.array([2**31, 1], pa.int64()),
        }
    )
    pq.write_table(table, folder / "wide.parquet")
    run = tierwatch("ingest", "wide.parquet", cwd=folder)
    assert run.returncode == 1, run.stderr
    assert "read 2, loaded 1, duplicates 0, rejected 1" in run.stdout
    assert "line 1: attempt is 2147483648, must be an integer >= 1, and at most 2147483647" in (
        run.stdout
    )


def test_records_wide_with_unknown_fields_load_within_the_memory_limit(tmp_path):
    # 3,000 records with 10 KB of unknown fields each once exhausted the 1 GB limit
    with open(tmp_path / "wide.jsonl", "w") as f:
        for i in range(3000):
            rec = {**GOOD, "task_id": f"w{i}"}
            rec.update({f"k{k:03d}": "v" * 10 for k in range(500)})
            f.write(json.dumps(rec) + "\n")
    report = ingest_paths(tmp_path / "t.duckdb", [tmp_path / "wide.jsonl"], CONFIG)
    assert not report.errors and report.totals["loaded"] == 3000
    with duckdb.connect(str(tmp_path / "t.duckdb"), read_only=True) as con:
        (extra,) = con.execute("select extra from attempts where task_id = 'w7'").fetchone()
    assert json.loads(extra) == {f"k{k:03d}": "v" * 10 for k in range(500)}


def test_rejects_as_json_is_streamed_and_equals_the_whole_list(folder):
    bad = [{**GOOD, "task_id": f"r{i}", "input_tokens": -1} for i in range(12_000)]
    (folder / "bad.jsonl").write_text("".join(json.dumps(r) + "\n" for r in bad))
    assert tierwatch("ingest", "bad.jsonl", cwd=folder).returncode == 1
    run = tierwatch("rejects", "--format", "json", cwd=folder)
    assert run.returncode == 0, run.stderr
    rows = json.loads(run.stdout)
    assert len(rows) == 12_000  # more than one fetched block
    assert [r["line"] for r in rows] == list(range(1, 12_001))
    assert rows[0]["reason"] == "input_tokens is -1, must be an integer >= 0"
    assert run.stdout == json.dumps(rows, indent=2, ensure_ascii=False) + "\n"
    empty = tierwatch("rejects", "a.jsonl", "--format", "json", cwd=folder)
    assert empty.stdout == "[]\n"


def test_a_known_records_hash_is_pinned():
    # worked out by hand from ingest/identity.py's rule: each value as length:text, NULL
    # as ~, joined by commas, in ATTEMPT_HASHED order; a DuckDB that printed timestamps or
    # doubles differently would change it, and re-loading old files would then conflict
    text = (
        "2:t1,8:executor,1:1,19:2026-03-01 12:00:00,1:x,5:haiku,~,~,2:10,1:5,~,"
        "4:0.25,3:0.9,~,2:ok,~,~,~,2:f1,~,~,"
        '13:{"a":1,"b":2}'
    )
    expected = hashlib.md5(text.encode()).hexdigest()  # noqa: S324 - an identity, not a secret
    con = duckdb.connect()
    identity.register(con)
    got = con.execute(
        "select attempt_hash('t1', 'executor', 1, timestamp '2026-03-01 12:00:00', 'x', "
        "'haiku', null, null, 10, 5, null, 0.25::double, 0.9::double, null, 'ok', null, "
        """null, null, 'f1', null, null, '{"b": 2.0, "a": 1}')"""
    ).fetchone()[0]
    assert got == expected


def test_a_store_hashed_the_old_way_is_rehashed_and_old_files_stay_duplicates(tmp_path):
    log = tmp_path / "a.jsonl"
    log.write_text(json.dumps({**GOOD, "note": {"y": 1, "x": 2}}) + "\n")
    db = tmp_path / "t.duckdb"
    ingest_paths(db, [log], CONFIG)
    with duckdb.connect(str(db)) as con:  # as a version-4 store left it: another hash
        con.execute("update attempts set record_hash = md5(task_id)")
        con.execute("delete from schema_version where version >= 5")
        con.execute("alter table ingested_files drop column loaded_by")  # version 6's
    log.write_text(log.read_text() + "\n")  # other bytes, the same record
    report = ingest_paths(db, [log], CONFIG)
    (result,) = report.files
    assert (result.loaded, result.duplicates, result.rejected) == (0, 1, 0)
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("select max(version) from schema_version").fetchone() == (
            SCHEMA_VERSION,
        )


def test_the_chunk_hashes_the_fields_identity_names_in_its_order():
    # ingest/chunk/good.sql spells out the hash functions' arguments; they must be the
    # fields ingest/identity.py declares, in its order, or stored hashes would drift
    import re
    from importlib import resources

    from tierwatch.ingest import identity

    text = (resources.files("tierwatch.ingest") / "chunk" / "good.sql").read_text("utf-8")
    for function, fields in (
        ("attempt_hash", identity.ATTEMPT_HASHED),
        ("downstream_hash", identity.DOWNSTREAM_HASHED),
    ):
        args = re.search(rf"{function}\(([^)]*)\)", text).group(1)
        named = [a.strip().removeprefix("c.").removeprefix("x.") for a in args.split(",")]
        assert named == list(fields), function


def test_a_csv_row_with_an_open_quote_and_a_byte_that_is_not_utf8_is_a_reject(folder):
    """Found by tests/test_typed_path.py: a row whose quote never closes and that holds a
    byte that is not UTF-8 crashed ingest (pyarrow refused the row's text). It is one reject,
    its text shown with U+FFFD for the byte."""
    header = b"task_id,ts,task_type,tier,input_tokens,output_tokens\n"
    (folder / "open.csv").write_bytes(header + b',,,,t\xff1,"open')
    run = tierwatch("ingest", "open.csv", "--json", cwd=folder)
    assert "Traceback" not in run.stderr
    assert run.returncode == 1, run.stderr
    report = json.loads(run.stdout)["files"][0]
    assert (report["read"], report["loaded"], report["rejected"]) == (1, 0, 1)
    (reject,) = report["rejects"]
    assert reject["line"] == 2
    assert reject["reason"] == "row cannot be parsed as CSV: unexpected end of data"
    stored = duckdb.connect(str(folder / "tierwatch.duckdb"), read_only=True)
    assert stored.execute("select raw from rejects where line = 2").fetchone()[0] == (
        ',,,,t\ufffd1,"open'
    )
