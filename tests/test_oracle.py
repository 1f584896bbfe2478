"""tierwatch's ingest against an independent oracle (tests/oracle.py) on generated hostile
files: for any sequence of JSONL and CSV files (hostile values in every field, duplicates and
conflicts within and across files, broken lines and rows), the store's records, every
reject's line and field, and every file's accounting must equal the oracle's, whether the
files are loaded one at a time or together in one pass of the checks (a folder of small
files).

The named tests below are the cases the hostile-input probe found (issue 14), each with its
expected outcome worked out by hand, and each also checked against the oracle.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from oracle import ATTEMPT, FileOutcome, Store, json_value, load
from test_cli_ingest import GOOD

from tierwatch.ingest import load as load_module
from tierwatch.ingest import store
from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import IngestError, ingest_file, ingest_small_files

CONFIG = load_config(None)
# each example is two or three files: about 2,500 files per run, some nine minutes
EXAMPLES = int(os.environ.get("TIERWATCH_ORACLE_EXAMPLES", "1000"))

# --- what tierwatch makes of the files ----------------------------------------------------


def tierwatch(
    files: list[tuple[str, bytes]], folder: Path, one_pass: bool = False
) -> tuple[list[FileOutcome], Store]:
    """What tierwatch stores of the files, loaded one at a time, or all in one pass of the
    checks (`one_pass`: ingest_small_files, as a folder of small files loads)."""
    outcomes = []
    paths = []
    for i, (form, data) in enumerate(files):
        paths.append(folder / f"f{i}.{form}")
        paths[-1].write_bytes(data)
    with store.open_store(":memory:", read_only=False) as con:
        if one_pass:
            passes = []
            real = load_module._load_chunk
            load_module._load_chunk = lambda *a: passes.append(1) or real(*a)
            try:
                results = dict(ingest_small_files(con, paths, CONFIG))
            finally:
                load_module._load_chunk = real
            assert len(passes) <= 1
        for path in paths:
            try:
                result = results[path] if one_pass else ingest_file(con, path, CONFIG)
                if isinstance(result, IngestError):
                    raise result
            except IngestError:
                outcomes.append(FileOutcome(refused=True))
                continue
            file_id = con.execute(
                "select file_id from ingested_files where path = ?", [str(path)]
            ).fetchone()[0]
            rejects = dict(
                con.execute(
                    "select line, field from rejects where file_id = ?", [file_id]
                ).fetchall()
            )
            outcomes.append(
                FileOutcome(
                    read=result.read,
                    loaded=result.loaded,
                    duplicates=result.duplicates,
                    rejected=result.rejected,
                    rejects=rejects,
                )
            )
        columns = [c for c in ATTEMPT if c != "record"]
        stored = Store()
        for row in con.execute(
            f"select {', '.join(columns)}, extra from attempts"  # noqa: S608 - names above
        ).fetchall():
            values = dict(zip([*columns, "extra"], row, strict=True))
            key = (values["task_id"], values["role"], values["attempt"])
            extra = values.pop("extra")
            stored.attempts[key] = tuple(values[c] for c in columns) + (
                json_value(json.loads(extra)) if extra is not None else None,
            )
        for task_id, ts, detected_by, extra in con.execute(
            "select task_id, ts, detected_by, extra from downstream_failures"
        ).fetchall():
            stored.downstream[(task_id, ts, detected_by)] = (
                json_value(json.loads(extra)) if extra is not None else None,
            )
    return outcomes, stored


def agree(files: list[tuple[str, bytes]], ways=(False, True)) -> tuple[list[FileOutcome], Store]:
    """tierwatch's outcome, after checking that it is the oracle's, loading the files one at
    a time and (unless `ways` says otherwise) all in one pass."""
    want, want_store = load(files)
    for one_pass in ways:
        with tempfile.TemporaryDirectory() as folder:
            got, got_store = tierwatch(files, Path(folder), one_pass)
        _same(files, got, got_store, want, want_store)
    return got, got_store


def _same(files, got, got_store, want, want_store) -> None:
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert g == w, f"file {i} ({files[i][0]}):\n{files[i][1].decode('utf-8', 'replace')}"
    assert got_store.downstream == want_store.downstream
    assert got_store.attempts.keys() == want_store.attempts.keys()
    for key, content in want_store.attempts.items():
        assert got_store.attempts[key] == content, key


# --- generated files ----------------------------------------------------------------------

# text that means something in one of the formats' or the hash's machinery, plus ordinary
# words; no \r (a CSV reader splits lines on it), no lone surrogates (not UTF-8)
NASTY = ["", " ", "a", "b", "t1", "x y", "\u0000", "\u001f", "a\u001fb", "it's", '"q"', "%",
         "a,b", "line\nbreak", "🚀", "مرحبا", "\t", "Opus", " sonnet ", "null", "{}"]  # fmt: skip
words = st.one_of(st.sampled_from(NASTY), st.text(st.characters(codec="utf-8",
                  exclude_characters="\r", exclude_categories=("Cs",)), max_size=6))  # fmt: skip
ints = st.one_of(
    st.integers(0, 3),
    st.sampled_from([-1, 2**31 - 1, 2**31, 2**63 - 1, 2**63, 2**64, 10**30]),
)
floats = st.sampled_from([0, 0.5, 1, 1.0, 2.5, -1.5, 1e-3, 1e300, 1e400])
good_ts = st.sampled_from(
    [
        "2026-03-01T12:00:00Z", "2026-03-01t12:00:00z", "2026-03-01T14:00:00+02:00",
        "2026-03-01 12:00:00", "2026-03-01", "2026-03-01T12:00:00.250Z", "2026-03-01T12:00Z",
        "2026-03-01T12:00:00+0200", 1772366400, 1772366400.25, 0,
    ]
)  # fmt: skip
bad_ts = st.sampled_from(
    ["yesterday", "2026-13-01", "2026-02-30T00:00:00Z", "1969-12-31T23:59:59Z",
     "2100-01-01T00:00:00Z", "1772366400", "", 1772366400000, -5]
)  # fmt: skip
timestamps = st.integers(0, 4).flatmap(lambda k: bad_ts if k == 0 else good_ts)


HOSTILE = st.one_of(words, ints, floats, st.booleans(), st.just([1]), st.just({"a": 1}))


def of(*good):
    """A field's values: mostly good ones, one in twelve anything hostile."""
    if not good:
        return HOSTILE
    return st.integers(0, 11).flatmap(lambda k: HOSTILE if k == 0 else st.one_of(*good))


FIELDS = {
    "task_id": of(st.sampled_from(["t1", "t2", "t3"])),
    "ts": of(timestamps),
    "task_type": of(st.sampled_from(["extract", "review"])),
    "tier": of(st.sampled_from(["haiku", "sonnet", "opus", "Opus", " sonnet "])),
    "input_tokens": of(st.integers(0, 50)),
    "output_tokens": of(st.integers(0, 50)),
    "attempt": of(st.integers(1, 2)),
    "role": of(st.sampled_from(["executor", "planner", "REVIEWER", "executor "])),
    "planner_tier": of(st.sampled_from(["haiku", "opus"])),
    "model": of(st.sampled_from(["claude-haiku-4-5", "claude-opus-4-1", "gpt-x"])),
    "cached_input_tokens": of(st.integers(0, 60)),
    "cost_usd": of(floats),
    "confidence": of(st.sampled_from([0, 0.9, 1, "high", " Low ", 1.5])),
    "confidence_source": of(st.sampled_from(["judge", "self"]), words),
    "status": of(st.sampled_from(["ok", "failed", "error", "OK"])),
    "escalation_reason": of(st.sampled_from(["low_confidence", "error"])),
    "downstream_failure": of(st.booleans(), st.sampled_from(["true", "no"])),
    "plan_id": of(st.sampled_from(["p1", "p2"]), words),
    "fleet": of(st.sampled_from(["f1", "a\u001fb", "\u0000"]), words),
    "agent": of(st.sampled_from(["ag"]), words),
    "latency_ms": of(floats),
}
REQUIRED = ("task_id", "ts", "task_type", "tier", "input_tokens", "output_tokens")
UNKNOWN = st.dictionaries(
    st.sampled_from(["note", "tags", "detected_by", "zz"]),
    st.one_of(
        words,
        st.integers(-5, 5),
        st.booleans(),
        st.none(),
        st.just([1, "a"]),
        st.just({"b": 1, "a": 2}),
    ),  # fmt: skip
    max_size=2,
)


@st.composite
def attempts(draw) -> dict:
    rec = {}
    for name in REQUIRED:
        if draw(st.integers(0, 19)):  # now and then a required field is left out
            rec[name] = draw(FIELDS[name])
    for name in draw(st.lists(st.sampled_from(sorted(set(FIELDS) - set(REQUIRED))), max_size=4)):
        rec[name] = draw(FIELDS[name])
    if draw(st.integers(0, 9)) == 0:
        rec["record"] = draw(st.sampled_from(["attempt", " Attempt", "other", 5]))
    rec.update(draw(UNKNOWN))
    return rec


@st.composite
def downstreams(draw) -> dict:
    rec = {"record": draw(st.sampled_from(["downstream_failure", "Downstream_Failure "]))}
    rec["task_id"] = draw(FIELDS["task_id"])
    rec["ts"] = draw(FIELDS["ts"])
    if draw(st.booleans()):
        rec["detected_by"] = draw(of(st.sampled_from(["gate", "review"])))
    if draw(st.booleans()):
        rec["input_tokens"] = draw(FIELDS["input_tokens"])  # an attempt field: kept as extra
    return rec


records = st.one_of(attempts(), attempts(), attempts(), downstreams())


@st.composite
def jsonl_file(draw) -> bytes:
    pool = draw(st.lists(records, min_size=1, max_size=4))  # repeats make duplicates
    lines = []
    for _ in range(draw(st.integers(0, 10))):
        kind = draw(st.integers(0, 19))
        if kind == 0:
            lines.append(draw(st.sampled_from(["", "   ", "{", "[]", "null", "5", '"x"'])))
        elif kind == 1:  # a field named twice
            rec = draw(st.sampled_from(pool))
            text = json.dumps(rec, ensure_ascii=False)
            lines.append(text[:-1] + (", " if rec else "") + '"task_id": "t9"}')
        elif kind == 2:  # the same record with its keys in another order
            rec = draw(st.sampled_from(pool))
            lines.append(json.dumps(dict(reversed(list(rec.items()))), ensure_ascii=False))
        else:
            lines.append(json.dumps(draw(st.sampled_from(pool)), ensure_ascii=False))
    data = "\n".join(lines).encode("utf-8")
    if draw(st.integers(0, 9)) == 0:
        data = b"\xef\xbb\xbf" + data
    if draw(st.integers(0, 9)) == 0:
        data += b"\n\xff\xfe not utf-8"
    return data + (b"\n" if draw(st.booleans()) else b"")


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return value
    return json.dumps(value)


@st.composite
def csv_file(draw) -> bytes:
    pool = draw(st.lists(records, min_size=1, max_size=4))
    rows = [draw(st.sampled_from(pool)) for _ in range(draw(st.integers(0, 8)))]
    columns = sorted({k for r in rows for k in r}) or list(REQUIRED)
    if draw(st.integers(0, 9)) == 0 and columns:
        columns.remove(draw(st.sampled_from(columns)))  # a column the rows need is absent
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for rec in rows:
        cells = [_cell(rec.get(c)).replace("\r", "") for c in columns]
        kind = draw(st.integers(0, 9))
        if kind == 0 and cells:  # a quote opened and never closed
            at = draw(st.integers(0, len(cells) - 1))
            line = ",".join(c.replace('"', "").replace("\n", " ").replace(",", " ") for c in cells)
            parts = line.split(",")
            parts[at] = '"' + parts[at]
            out.write(",".join(parts) + "\n")
        elif kind == 1:  # a value too many
            writer.writerow([*cells, "extra"])
        elif kind == 2:
            out.write("\n" if draw(st.booleans()) else " , \n")
        else:
            writer.writerow(cells)
    return out.getvalue().encode("utf-8")


files = st.lists(
    st.one_of(jsonl_file().map(lambda d: ("jsonl", d)), csv_file().map(lambda d: ("csv", d))),
    min_size=2,
    max_size=3,
)


@pytest.mark.timeout(2400)  # the one long test of the suite: thousands of files loaded
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files)
def test_tierwatch_agrees_with_the_oracle_on_hostile_files(generated):
    agree(generated, ways=(False,))


@settings(
    max_examples=max(1, EXAMPLES // 4),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(files)
def test_files_loaded_in_one_pass_agree_with_the_oracle(generated):
    """The same files as one pass of the checks (a folder of small files): every file's
    accounting, rejects and the store as the oracle has them, file after file."""
    agree(generated, ways=(True,))


# --- the probe's cases, by name -----------------------------------------------------------


def jsonl(*recs) -> tuple[str, bytes]:
    lines = [r if isinstance(r, str) else json.dumps(r) for r in recs]
    return "jsonl", ("\n".join(lines) + "\n").encode()


def accounting(outcome: FileOutcome) -> tuple[int, int, int, int]:
    return outcome.read, outcome.loaded, outcome.duplicates, outcome.rejected


def test_attempt_past_the_32_bit_column_is_a_reject_not_a_crash():
    (got,), stored = agree([jsonl({**GOOD, "attempt": 2**31}, {**GOOD, "task_id": "t2"})])
    assert accounting(got) == (2, 1, 0, 1)
    assert got.rejects == {1: "attempt"}
    assert list(stored.attempts) == [("t2", "executor", 1)]
    (got,), _ = agree([jsonl({**GOOD, "attempt": 2**31 - 1})])  # the largest that fits loads
    assert accounting(got) == (1, 1, 0, 0)


def test_every_integer_field_is_bounded_by_its_column():
    for name, biggest in (("input_tokens", 2**63 - 1), ("attempt", 2**31 - 1)):
        over = {**GOOD, name: biggest + 1, "cached_input_tokens": 0}
        (got,), _ = agree([jsonl(over)])
        assert got.rejects == {1: name}, name


def test_unterminated_csv_quote_rejects_its_line_and_keeps_the_rows_after_it():
    text = (
        "task_id,ts,task_type,tier,input_tokens,output_tokens,fleet\n"
        'c1,2026-03-01T12:00:00Z,x,haiku,1,1,"oops\n'
        "c2,2026-03-01T12:00:00Z,x,haiku,1,1,f\n"
        "c3,2026-03-01T12:00:00Z,x,haiku,1,1,f\n"
    )
    (got,), stored = agree([("csv", text.encode())])
    assert accounting(got) == (3, 2, 0, 1)
    assert got.rejects == {2: None}
    assert {k[0] for k in stored.attempts} == {"c2", "c3"}
    assert all(content[ATTEMPT.index("fleet") - 1] == "f" for content in stored.attempts.values())


def test_a_quote_open_past_csvs_old_field_limit_still_loses_no_row():
    head = "task_id,ts,task_type,tier,input_tokens,output_tokens,fleet\n"
    rows = [f"r{i},2026-03-01T12:00:00Z,x,haiku,1,1,{'f' * 60}\n" for i in range(2898)]
    text = head + 'c1,2026-03-01T12:00:00Z,x,haiku,1,1,"oops\n' + "".join(rows)
    assert len(text) > 131_072  # Python csv's default field limit
    (got,), stored = agree([("csv", text.encode())])
    assert accounting(got) == (2899, 2898, 0, 1)
    assert got.rejects == {2: None}


def test_duplicate_of_the_stored_record_after_a_conflict_is_a_duplicate():
    stored_first = jsonl({**GOOD, "output_tokens": 5})
    later = jsonl({**GOOD, "output_tokens": 6}, {**GOOD, "output_tokens": 5})
    (_, got), _ = agree([stored_first, later])
    assert accounting(got) == (2, 0, 1, 1)  # line 1 conflicts; line 2 equals what is stored
    assert got.rejects == {1: None}


def test_a_conflict_repeated_is_quarantined_twice_not_counted_a_duplicate():
    stored_first = jsonl({**GOOD, "output_tokens": 5})
    later = jsonl({**GOOD, "output_tokens": 6}, {**GOOD, "output_tokens": 6})
    (_, got), _ = agree([stored_first, later])
    assert accounting(got) == (2, 0, 0, 2)
    assert got.rejects == {1: None, 2: None}


@pytest.mark.parametrize(
    "first, second",
    [
        ({"fleet": "\u0000"}, {}),  # the old hash's stand-in for NULL
        ({"fleet": "a\u001fb", "agent": "c"}, {"fleet": "a", "agent": "b\u001fc"}),  # separator
    ],
    ids=["nul-is-not-absent", "values-shifted-across-the-separator"],
)
def test_different_records_never_hash_alike(first, second):
    (got,), stored = agree([jsonl({**GOOD, **first}, {**GOOD, **second})])
    assert accounting(got) == (2, 1, 0, 1)  # a conflict, not a duplicate
    assert got.rejects == {2: None}


def test_unknown_fields_in_another_key_order_are_a_duplicate():
    a = '{"task_id": "k1", "ts": "2026-03-01T12:00:00Z", "task_type": "x", "tier": "haiku", '
    a += '"input_tokens": 1, "output_tokens": 1, "foo": {"x": 1, "y": [1, 2]}, "bar": 2}'
    b = '{"bar": 2.0, "foo": {"y": [1, 2], "x": 1}, "output_tokens": 1, "input_tokens": 1, '
    b += '"tier": "haiku", "task_type": "x", "ts": "2026-03-01T12:00:00Z", "task_id": "k1"}'
    (got,), stored = agree([jsonl(a, b)])
    assert accounting(got) == (2, 1, 1, 0)


def test_spaces_around_tiers_and_enums_make_no_difference():
    spaced = {**GOOD, "tier": " Opus ", "role": "executor ", "status": " OK"}
    (got,), stored = agree([jsonl(spaced)])
    assert accounting(got) == (1, 1, 0, 0)
    (content,) = stored.attempts.values()
    assert content[ATTEMPT.index("tier") - 1] == "opus"
    assert content[ATTEMPT.index("status") - 1] == "ok"


def test_rfc3339_lower_case_t_and_z():
    (got,), stored = agree([jsonl({**GOOD, "ts": "2026-03-01t12:00:00z"})])
    assert accounting(got) == (1, 1, 0, 0)
    (content,) = stored.attempts.values()
    assert content[ATTEMPT.index("ts") - 1] == dt.datetime(2026, 3, 1, 12)


def test_a_field_named_twice_is_rejected_not_silently_first_wins():
    line = json.dumps(GOOD)[:-1] + ', "task_id": "t2"}'
    (got,), stored = agree([jsonl(line)])
    assert accounting(got) == (1, 0, 0, 1)
    assert stored.attempts == {}
