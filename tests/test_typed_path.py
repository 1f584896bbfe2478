"""The typed Parquet path (ingest/load.py `TypedBlock`, ingest/validate.py `typed_pull_sql`)
against the JSON path it replaces: on any Parquet file, hostile values and column types
included, both must give the same store, the same rejects (line, field, reason, text) and
the same accounting. The JSON path is the one tests/test_oracle.py checks against an
independent oracle; this test carries that check over to the typed path.

A file takes the typed path when every column is a field of the format of a type it reads
as it is; a batch with a NaN or infinite float, or a row that could pass the record limit,
takes the JSON path. The examples mix both, several batches per file, and two files per
store (duplicates and conflicts within a batch, across batches and across files).
"""

from __future__ import annotations

import datetime as dt
import decimal
import os
import tempfile
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tierwatch.ingest import load, store
from tierwatch.ingest.config import load_config

CONFIG = load_config(None)
EXAMPLES = int(os.environ.get("TIERWATCH_TYPED_EXAMPLES", "80"))


def _store(paths: list[Path], typed: bool, monkeypatch) -> dict:
    """Everything a load leaves that a user or a query can see."""
    monkeypatch.setattr(load, "TYPED_READS", typed)
    monkeypatch.setattr(load, "CHUNK_RECORDS", 4)  # several batches per file
    monkeypatch.setattr(load, "CSV_BLOCK_BYTES", 96)  # a CSV file's blocks: plain and not
    with store.open_store(":memory:", read_only=False) as con:
        outcomes = []
        for path in paths:
            try:
                r = load.ingest_file(con, path, CONFIG)
            except load.IngestError as e:
                outcomes.append(("refused", str(e).replace(str(path), "<file>")))
                continue
            outcomes.append(
                (r.read, r.loaded, r.duplicates, r.rejected, r.downstream_failures, r.rejects)
            )
        seen = {"outcomes": outcomes}
        for table in ("attempts", "rejects", "tasks", "downstream_failures", "task_rollup"):
            seen[table] = con.execute(f"select * from {table} order by all").fetchall()
        seen["ledger"] = con.execute(
            "select file_id, read, loaded, duplicates, rejected from ingested_files order by all"
        ).fetchall()
    return seen


def _both_paths_agree(contents: list, suffix: str, write, monkeypatch) -> None:
    """The files written by `write(content, path)` store the same, typed path on and off."""
    with tempfile.TemporaryDirectory() as folder:
        paths = [Path(folder) / f"f{i}.{suffix}" for i in range(len(contents))]
        for content, path in zip(contents, paths, strict=True):
            write(content, path)
        assert _store(paths, True, monkeypatch) == _store(paths, False, monkeypatch)


PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)


# --- hostile Parquet files ----------------------------------------------------------------

_INT64 = st.one_of(
    st.integers(-3, 5), st.integers(-(2**63), 2**63 - 1), st.sampled_from([2**31, 2**31 - 1])
)
_TEXT = st.one_of(
    st.sampled_from(["", " ", "t1", "t2", "a\x00b", "é", "😀", '"q"', "x" * 70]),
    st.text(max_size=8),
)
_WORDS = st.sampled_from(
    ["haiku", "Sonnet ", " OPUS", "gpt-5", "ok", "FAILED", "error", "planner", "executor",
     "reviewer", "low_confidence", "high", "medium", "true", "1", "no", "2.5", "-1", "1e3",
     "2026-03-01T12:00:00Z", "2026-03-01", "1772366400", "1772366400000"]
)  # fmt: skip
_TIMES = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1))
_NS_TIMES = st.datetimes(min_value=dt.datetime(1678, 1, 1), max_value=dt.datetime(2261, 1, 1))
_FLOATS = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([0.0, 0.5, 1.0, 1.5, -0.0, 2.0, 1e20, 1e-7, 0.1]),
)
_FLOATS_ANY = st.one_of(_FLOATS, st.sampled_from([float("nan"), float("inf"), float("-inf")]))

# (Arrow type, values) a column may have, whatever field it holds
_TYPES = [
    (pa.string(), st.one_of(_TEXT, _WORDS)),
    (pa.large_string(), _WORDS),
    (pa.int64(), _INT64),
    (pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    (pa.uint64(), st.integers(0, 2**64 - 1)),
    (pa.int8(), st.integers(-128, 127)),
    (pa.float64(), _FLOATS),
    (pa.float64(), _FLOATS_ANY),
    (pa.float32(), st.floats(width=32, allow_nan=False, allow_infinity=False)),
    (pa.bool_(), st.booleans()),
    (pa.timestamp("us"), _TIMES),
    (pa.timestamp("ms", tz="UTC"), _TIMES),
    (pa.timestamp("ns"), _NS_TIMES),
    (pa.timestamp("s", tz="Europe/Paris"), _TIMES),
    (pa.date32(), st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2200, 1, 1))),
    (pa.null(), st.none()),
]
# the type a field usually has, so that most rows are good and identities repeat
_USUAL = {
    "task_id": (pa.string(), st.sampled_from(["t1", "t2", "t3"])),
    "ts": (pa.timestamp("us"), st.sampled_from([dt.datetime(2026, 3, 1), dt.datetime(2026, 3, 2)])),
    "task_type": (pa.string(), st.sampled_from(["code", "summarise"])),
    "tier": (pa.string(), st.sampled_from(["haiku", "sonnet", "opus"])),
    "input_tokens": (pa.int64(), st.integers(0, 5000)),
    "output_tokens": (pa.int64(), st.integers(0, 5000)),
    "attempt": (pa.int64(), st.integers(1, 3)),
    "role": (pa.string(), st.sampled_from(["executor", "reviewer"])),
    "model": (pa.string(), st.sampled_from(["claude-haiku-4-5", "claude-opus-4-1", "gpt-5"])),
    "cached_input_tokens": (pa.int64(), st.integers(0, 6000)),
    "cost_usd": (pa.float64(), st.floats(0, 2)),
    "confidence": (pa.float64(), st.floats(0, 1)),
    "status": (pa.string(), st.sampled_from(["ok", "failed"])),
    "downstream_failure": (pa.bool_(), st.booleans()),
}  # fmt: skip
_FIELDS = [
    "task_id", "ts", "task_type", "tier", "input_tokens", "output_tokens", "attempt", "role",
    "planner_tier", "model", "cached_input_tokens", "cost_usd", "confidence",
    "confidence_source", "status", "escalation_reason", "downstream_failure", "plan_id",
    "fleet", "agent", "latency_ms",
]  # fmt: skip


@st.composite
def parquet_file(draw) -> pa.Table:
    required = ["task_id", "ts", "task_type", "tier", "input_tokens", "output_tokens"]
    names = [n for n in required if draw(st.integers(0, 9))]  # now and then one missing
    names += draw(st.lists(st.sampled_from(_FIELDS), max_size=6, unique=True))
    names = list(dict.fromkeys(names))
    if draw(st.integers(0, 9)) == 0:
        names.append(draw(st.sampled_from(["record", "Task_ID", "notes"])))  # JSON path
    n = draw(st.integers(1, 14))
    columns = {}
    for name in names:
        arrow_type, values = (
            _USUAL[name]
            if name in _USUAL and draw(st.integers(0, 3))
            else draw(st.sampled_from(_TYPES))
        )
        cells = draw(
            st.lists(
                st.one_of(values, st.none()) if draw(st.booleans()) else values,
                min_size=n,
                max_size=n,
            )
        )
        columns[name] = pa.array(cells, arrow_type)
    table = pa.table(columns) if columns else pa.table({"task_id": pa.array(["t1"] * n)})
    # exact copies of rows (duplicates) and rows of the same identity (conflicts)
    copies = draw(st.lists(st.integers(0, table.num_rows - 1), max_size=4))
    return pa.concat_tables([table, table.take(copies)]) if copies else table


@PROPERTY
@given(tables=st.lists(parquet_file(), min_size=1, max_size=2))
def test_the_typed_path_stores_what_the_json_path_stores(tables, monkeypatch):
    _both_paths_agree(tables, "parquet", pq.write_table, monkeypatch)


# --- hostile CSV files --------------------------------------------------------------------

_PRINTABLE = [chr(c) for c in range(0x20, 0x7F) if chr(c) not in '",']
# cells a plain block may hold (bad for the rules, not for the reader), and cells that make
# a block not plain (quotes, control or non-ASCII characters)
_PLAIN_CELLS = st.one_of(
    st.sampled_from(
        ["", " ", "t1", "t2", "code", "haiku", " Sonnet", "opus", "gold", "5", "-5", "1.5",
         "0.5", "high", "2026-03-01T12:00:00Z", "2026-03-01 12:00", "1772366400", "x y",
         "a\tb", "true", "9223372036854775808", "1e400", "NaN"]
    ),
    st.text(alphabet=st.sampled_from(_PRINTABLE), max_size=4),
)  # fmt: skip
_ANY_CELLS = st.one_of(
    _PLAIN_CELLS,
    st.sampled_from(['"quoted, with comma"', '"open', 'say ""hi""', "\x1c", "é", "a\rb"]),
    st.text(alphabet=st.characters(codec="utf-8"), max_size=4),
)
_REQUIRED = ["task_id", "ts", "task_type", "tier", "input_tokens", "output_tokens"]
_HEADERS = st.one_of(
    st.just(_REQUIRED),
    st.lists(st.sampled_from(_FIELDS), max_size=5, unique=True).map(
        lambda more: list(dict.fromkeys(_REQUIRED + more))
    ),
    st.lists(st.sampled_from([*_FIELDS, "record", "notes", " tier ", ""]), min_size=1, max_size=8),
)


@st.composite
def csv_file(draw) -> bytes:
    header = draw(_HEADERS)
    cells = _PLAIN_CELLS if draw(st.booleans()) else _ANY_CELLS
    lines = [",".join(header)]
    for _ in range(draw(st.integers(0, 14))):
        shape = draw(st.integers(0, 9))
        if shape == 0:
            lines.append(draw(st.sampled_from(["", "  ", ",,", " , "])))
        else:
            width = len(header) if shape > 1 else draw(st.integers(1, len(header) + 2))
            lines.append(",".join(draw(cells) for _ in range(width)))
        if lines[1:] and draw(st.integers(0, 5)) == 0:
            lines.append(lines[draw(st.integers(1, len(lines) - 1))])  # a copy
    end = draw(st.sampled_from(["\n", "\r\n"])) if draw(st.integers(0, 4)) == 0 else "\n"
    text = end.join(lines) + draw(st.sampled_from(["", end]))
    data = text.encode("utf-8", "surrogatepass")
    if draw(st.integers(0, 9)) == 0:
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        data = data.replace(b"t1", b"t\xff1")  # a byte that is not UTF-8
    return data


@PROPERTY
@given(files=st.lists(csv_file(), min_size=1, max_size=2))
def test_plain_csv_blocks_store_what_the_line_by_line_reader_stores(files, monkeypatch):
    _both_paths_agree(files, "csv", lambda data, path: path.write_bytes(data), monkeypatch)


# --- cases worked out by hand -------------------------------------------------------------


def _blocks(path: Path, **kw) -> list:
    return list(load.read_parquet(path, typed=True, **kw))


def test_a_well_typed_file_takes_the_typed_path_and_its_rejects_read_as_ingests(
    tmp_path, monkeypatch
):
    """Five rows, typed columns; the reasons are the format's (docs/log-format.md), worked
    out from the values: -5 tokens, a 1969 time, a tier not on the ladder, confidence 1.5."""
    path = tmp_path / "typed.parquet"
    ts = dt.datetime(2026, 3, 1, 12, 0)
    pq.write_table(
        pa.table(
            {
                "task_id": ["a", "b", "c", "d", "e"],
                "ts": pa.array([ts, ts, dt.datetime(1969, 12, 31), ts, ts], pa.timestamp("us")),
                "task_type": ["code"] * 5,
                "tier": ["haiku", "Sonnet", "opus", "gold", "opus"],
                "input_tokens": pa.array([10, -5, 10, 10, 10], pa.int64()),
                "output_tokens": pa.array([1, 1, 1, 1, 1], pa.int64()),
                "confidence": pa.array([0.5, 0.5, 0.5, 0.5, 1.5], pa.float64()),
            }
        ),
        path,
    )
    blocks = _blocks(path)
    assert [type(b).__name__ for b in blocks] == ["TypedBlock"]
    with store.open_store(":memory:", read_only=False) as con:
        r = load.ingest_file(con, path, CONFIG)
        stored = con.execute("select task_id, tier from attempts order by 1").fetchall()
    assert (r.read, r.loaded, r.rejected) == (5, 1, 4)
    assert stored == [("a", "haiku")]
    assert [(x.line, x.field, x.reason) for x in r.rejects] == [
        (2, "input_tokens", "input_tokens is -5, must be an integer >= 0"),
        (
            3,
            "ts",
            'ts is "1969-12-31 00:00:00", must be a time between 1970 and 2100 '
            "(epoch seconds, not milliseconds)",
        ),
        (
            4,
            "tier",
            'tier is "gold", must be a tier on the ladder haiku < sonnet < opus '
            "(tier names come from tierwatch.toml)",
        ),
        (
            5,
            "confidence",
            "confidence is 1.5, must be a number in [0, 1] or one of high, medium, low",
        ),
    ]


def test_the_rejected_rows_keep_their_text(tmp_path):
    """A rejected row's text is its JSON object, as the JSON path writes every row."""
    path = tmp_path / "one.parquet"
    pq.write_table(pa.table({"task_id": ["a"], "input_tokens": pa.array([-1], pa.int64())}), path)
    with store.open_store(":memory:", read_only=False) as con:
        load.ingest_file(con, path, CONFIG)
        raw = con.execute("select raw from rejects").fetchone()[0]
    assert raw == '{"task_id":"a","input_tokens":-1}'


@pytest.mark.parametrize(
    ("columns", "why"),
    [
        ({"task_id": ["a"], "notes": ["x"]}, "a field the format does not know"),
        ({"task_id": ["a"], "record": ["attempt"]}, "record may make a row a downstream failure"),
        (
            {
                "task_id": ["a"],
                "cost_usd": pa.array([decimal.Decimal("1.50")], pa.decimal128(5, 2)),
            },
            "a decimal",
        ),
        ({"task_id": ["a"], "cost_usd": pa.array([float("nan")])}, "NaN is not JSON"),
    ],
)
def test_files_the_typed_path_cannot_read_as_they_are_take_the_json_path(tmp_path, columns, why):
    path = tmp_path / "f.parquet"
    pq.write_table(pa.table(columns), path)
    assert [type(b).__name__ for b in _blocks(path)] == ["RecordBatch"], why


def test_a_batch_that_could_pass_the_record_limit_takes_the_json_path(tmp_path):
    path = tmp_path / "long.parquet"
    pq.write_table(pa.table({"task_id": ["x" * 200_000, "y"]}), path)
    limits = load.Limits(record_mb=1)  # 6 x 200,000 characters may escape past 1 MB
    assert [type(b).__name__ for b in _blocks(path, limits=limits)] == ["RecordBatch"]
    assert [type(b).__name__ for b in _blocks(path)] == ["TypedBlock"]  # the default limit


def test_a_csv_file_is_read_plainly_up_to_its_first_quote_and_line_by_line_after(
    tmp_path, monkeypatch
):
    """Lines 2-3 are plain; line 4 quotes a value, so from its block on the file is read by
    csv.reader, numbering on from where the plain blocks stopped: the rejects of lines 3 and
    5 (worked out from the values: -5 tokens, tier gold) keep their lines."""
    monkeypatch.setattr(load, "CSV_BLOCK_BYTES", 80)  # line 2 and 3 are one block
    path = tmp_path / "mixed.csv"
    path.write_text(
        "task_id,ts,task_type,tier,input_tokens,output_tokens\n"  # 1
        "a,2026-03-01T12:00:00Z,code,haiku,10,1\n"  # 2
        "b,2026-03-01T12:00:00Z,code,haiku,-5,1\n"  # 3
        'c,2026-03-01T12:00:00Z,"code, hard",opus,10,1\n'  # 4
        "d,2026-03-01T12:00:00Z,code,gold,10,1\n"  # 5
    )
    kinds = [type(b).__name__ for b in load.read_csv(path, typed=True)]
    assert kinds[0] == "TypedBlock" and kinds[-1] == "RecordBatch"
    with store.open_store(":memory:", read_only=False) as con:
        r = load.ingest_file(con, path, CONFIG)
        stored = con.execute("select task_id, task_type from attempts order by 1").fetchall()
    assert (r.read, r.loaded, r.rejected) == (4, 2, 2)
    assert stored == [("a", "code"), ("c", "code, hard")]
    assert [(x.line, x.field) for x in r.rejects] == [(3, "input_tokens"), (5, "tier")]


def test_a_windows_csv_takes_the_typed_path_and_keeps_its_rows_text(tmp_path):
    """CRLF line ends are line ends to csv.reader: such a file is plain, and a rejected
    row's text is the row without its line end, as the line-by-line reader keeps it."""
    path = tmp_path / "windows.csv"
    path.write_bytes(
        b"task_id,ts,task_type,tier,input_tokens,output_tokens\r\n"
        b"a,2026-03-01T12:00:00Z,code,haiku,10,1\r\n"
        b"b,2026-03-01T12:00:00Z,code,haiku,-5,1\r\n"
    )
    assert [type(b).__name__ for b in load.read_csv(path, typed=True)] == ["TypedBlock"]
    with store.open_store(":memory:", read_only=False) as con:
        r = load.ingest_file(con, path, CONFIG)
        raw = con.execute("select raw from rejects").fetchone()[0]
    assert (r.read, r.loaded, r.rejected) == (2, 1, 1)
    assert [(x.line, x.field) for x in r.rejects] == [(3, "input_tokens")]
    assert raw == "b,2026-03-01T12:00:00Z,code,haiku,-5,1"
