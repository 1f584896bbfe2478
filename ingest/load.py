"""Load task-log files into the store: read, check, deduplicate, quarantine, account.

Each file is loaded in blocks: a reader hands a block of records to DuckDB as Arrow (line
number, raw text, the record as a JSON object), DuckDB checks every record of the block in
one statement (ingest/validate.py), and the block's good records and rejects are written
set-wise to staging tables. One final transaction per file moves them into the tables the
queries read, so a file becomes visible all at once or not at all, while memory is bounded
by a block. A bad record goes to `rejects` with its line and reason; it never becomes a row
of NULLs and never stops the good records. For every file: read = loaded + duplicates +
rejected.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import glob
import gzip
import hashlib
import io
import json
import os
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from tierwatch.ingest import environment, identity, sources, store, validate
from tierwatch.ingest.config import Config
from tierwatch.ingest.inputs import InputLimit, Limits, Progress, open_input

FORMATS = ("jsonl", "csv", "parquet") + sources.SOURCES
SUFFIXES = {
    ".jsonl": "jsonl",
    ".json": "jsonl",
    ".ndjson": "jsonl",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".pb": "otlp",
    ".binpb": "otlp",
    ".protobuf": "otlp",
    ".otlp": "otlp",
}
CHUNK_RECORDS = 250_000  # CSV and Parquet records staged at a time
BLOCK_BYTES = 64 << 20  # JSONL bytes staged at a time (whole lines)
CSV_BLOCK_BYTES = 16 << 20  # plain CSV bytes split at a time (their rows are then chunked)
MAX_RAW_CHARS = 10_000  # a rejected record's text is kept up to this length
REJECTS_SHOWN = 100


class IngestError(Exception):
    """A file that cannot be read at all (missing, unreadable, unknown format)."""


@dataclass(frozen=True)
class Reject:
    line: int
    field: str | None
    reason: str
    locator: str | None = None  # a source's own where: "line 1, trace … span …"

    @property
    def where(self) -> str:
        return self.locator or f"line {self.line}"


def fallbacks_note(answered: int, failed: int) -> str | None:
    """What `answered` LiteLLM answers after Router fallbacks whose `failed` calls no record
    holds mean (FileResult.fallbacks_not_logged), or None when there are none."""
    if not answered:
        return None
    calls = "1 call was" if answered == 1 else f"{answered:,} calls were"
    lost = "1 failed call" if failed == 1 else f"{failed:,} failed calls"
    return (
        f"{calls} answered after Router fallbacks whose {lost} this log does not hold "
        "(LiteLLM_SpendLogs keeps only the call that answered), so their tasks look "
        "right first time on the fallback's tier; log failed calls too (LiteLLM's S3 or "
        "GCS logger, or OpenTelemetry) to count them"
    )


@dataclass
class FileResult:
    path: str
    format: str
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    skipped: int = 0  # spans and records that are not model calls (sources only)
    skipped_kinds: Counter = field(default_factory=Counter)
    # of the loaded and duplicate records, the downstream-failure ones (the rest: attempts)
    downstream_failures: int = 0
    missing: list[str] = field(default_factory=list)  # what the loaded records lack
    unpriced_models: list[str] = field(default_factory=list)  # priced at their tier's price
    # LiteLLM answers after fallbacks whose failed calls the file does not hold: (attempts,
    # failed calls they stand for), from fallbacks_not_logged.sql
    fallbacks_not_logged: tuple[int, int] = (0, 0)
    rejects: list[Reject] = field(default_factory=list)  # the first REJECTS_SHOWN
    loaded_by: str | None = None  # who loaded it: a dashboard's signed-in user, the OS user

    def fallbacks_note(self) -> str | None:
        """The sentence saying what `fallbacks_not_logged` means, or None when nothing."""
        return fallbacks_note(*self.fallbacks_not_logged)

    def to_json(self) -> dict:
        out = {
            "path": self.path,
            "read": self.read,
            "loaded": self.loaded,
            "duplicates": self.duplicates,
            "rejected": self.rejected,
            "rejects": [{"line": r.line, "reason": r.reason} for r in self.rejects],
        }
        if self.format in sources.SOURCES:
            out["format"] = self.format
            for shown, r in zip(out["rejects"], self.rejects, strict=True):
                shown["where"] = r.where
            out["skipped"] = self.skipped
            out["skipped_kinds"] = dict(self.skipped_kinds.most_common())
            out["downstream_failures"] = self.downstream_failures
            out["missing"] = self.missing
            out["unpriced_models"] = self.unpriced_models
            out["fallbacks_not_logged"] = dict(
                zip(("attempts", "failed_calls"), self.fallbacks_not_logged, strict=True)
            )
        return out


@dataclass
class IngestReport:
    files: list[FileResult] = field(default_factory=list)
    errors: list[tuple[str, str]] = field(default_factory=list)  # (path, why) not loaded

    @property
    def totals(self) -> dict[str, int]:
        keys = ["read", "loaded", "duplicates", "rejected"]
        if any(f.format in sources.SOURCES for f in self.files):
            keys.append("skipped")  # spans and records that are not model calls
        return {k: sum(getattr(f, k) for f in self.files) for k in keys}

    def to_json(self) -> dict:
        return {
            "files": [f.to_json() for f in self.files],
            "totals": self.totals,
            "errors": [{"path": p, "error": e} for p, e in self.errors],
        }


# --- finding files ---------------------------------------------------------------------


def _format_of(path: Path, fmt: str, content: Path | None = None) -> str:
    """The format of `path` (named `path`, read at `content`): given, else the source its
    content holds (OTLP, LiteLLM, Langfuse), else told from the name."""
    if fmt == "auto":
        found = sources.detect(content or path)
        if found is not None:
            return found
    if fmt != "auto":
        if fmt not in FORMATS:
            raise IngestError(f"unknown format {fmt!r}; use one of auto, {', '.join(FORMATS)}")
        return fmt
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    found = SUFFIXES.get(suffixes[-1]) if suffixes else None
    if found is None:
        raise IngestError(
            f"{path}: cannot tell the format from the file name or content; name it .jsonl, "
            f".csv, .parquet or .pb (optionally .gz), or pass --format "
            f"{'|'.join(FORMATS)}"
        )
    return found


def _readable(path: Path) -> bool:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return bool(suffixes) and suffixes[-1] in SUFFIXES


def expand_paths(paths: Iterable[str | os.PathLike]) -> list[Path]:
    """Files named, files under folders named (of known suffixes), and glob matches."""
    found: list[Path] = []
    for item in paths:
        try:
            found.extend(_expand(Path(str(item)), str(item)))
        except PermissionError as e:
            where = e.filename or item
            raise IngestError(
                f"{where}: permission denied; tierwatch needs to read it (and the folders "
                f"above it): check its permissions"
            ) from None
        except OSError as e:
            raise IngestError(f"{e.filename or item}: cannot be read ({e.strerror})") from None
    unique: list[Path] = []
    seen = set()
    for p in found:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(p)
    return unique


def _expand(p: Path, text: str) -> list[Path]:
    """The files one argument names; an OSError for what cannot be read (no folder below a
    named one is skipped in silence)."""
    if p.is_dir():
        inside = sorted(q for q in _walk(p) if _readable(q))
        if not inside:
            raise IngestError(
                f"{p}: folder holds no .jsonl, .json, .csv or .parquet files (or .gz of them)"
            )
        return inside
    if p.exists():
        return [p]
    if glob.has_magic(text):
        matches = sorted(Path(m) for m in glob.glob(text, recursive=True))
        matches = [m for m in matches if m.is_file()]
        if not matches:
            raise IngestError(f"{text}: no file matches this pattern")
        return matches
    raise IngestError(f"{p}: no such file or folder")


def _walk(folder: Path) -> Iterator[Path]:
    def fail(e: OSError) -> None:
        raise e

    for root, _dirs, names in os.walk(folder, onerror=fail):
        for name in names:
            q = Path(root) / name
            if q.is_file():
                yield q


# --- reading: each reader yields Arrow chunks (line, raw, doc, typed, parse_error) -----

_STAGE_SCHEMA = pa.schema(
    [
        ("line", pa.int64()),
        ("raw", pa.string()),
        ("doc", pa.string()),
        ("typed", pa.bool_()),
        ("parse_error", pa.string()),
        ("locator", pa.string()),  # a source's own where (trace, span); null for v1 files
    ]
)


def _chunk(lines, raws, docs, typed, errors, locators=None) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [
            pa.array(lines, pa.int64()),
            pa.array(raws, pa.string()),
            pa.array(docs, pa.string()),
            pa.array([typed] * len(lines), pa.bool_()),
            pa.array(errors, pa.string()),
            pa.array(locators or [None] * len(lines), pa.string()),
        ],
        schema=_STAGE_SCHEMA,
    )


def _typed_block(lines, raws, docs, errors=None) -> pa.RecordBatch:
    """A staged block of JSON texts already in Arrow (JSONL lines, Parquet rows): typed, no
    source locator; `errors` null unless given."""
    n = len(docs)
    return pa.RecordBatch.from_arrays(
        [
            lines,
            raws,
            docs,
            pa.array(np.ones(n, dtype=bool)),
            pa.nulls(n, pa.string()) if errors is None else errors,
            pa.nulls(n, pa.string()),
        ],
        schema=_STAGE_SCHEMA,
    )


def _clip(text: str) -> str:
    return text if len(text) <= MAX_RAW_CHARS else text[:MAX_RAW_CHARS] + "…"


def _clipped(texts: pa.Array, lengths: pa.Array) -> pa.Array:
    """_clip of each text in Arrow (`lengths`: their lengths in characters)."""
    return pc.if_else(
        pc.greater(lengths, MAX_RAW_CHARS),
        pc.binary_join_element_wise(
            pc.utf8_slice_codeunits(texts, 0, MAX_RAW_CHARS), pa.scalar("…"), ""
        ),
        texts,
    )


def read_jsonl(
    path: Path, progress: Progress | None = None, limits: Limits | None = None
) -> Iterator[pa.RecordBatch]:
    """JSONL in blocks of whole lines: split and UTF-8 checked by Arrow, not line by line."""
    limits = limits or Limits()
    number = 0  # lines before the block
    carry = b""
    first = True
    with open_input(path, progress, limits) as f:
        while True:
            data = f.read(BLOCK_BYTES)
            if not data:
                break
            block = carry + data
            cut = block.rfind(b"\n")
            if cut < 0:
                carry = block
                if len(carry) > limits.record_bytes:
                    raise limits.record_too_long(str(path), f"line {number + 1}")
                continue
            carry = block[cut + 1 :]
            batch = _jsonl_block(path, block[:cut], number, first, limits)
            number += block.count(b"\n", 0, cut) + 1
            first = False
            if batch.num_rows:
                yield batch
    if carry:
        batch = _jsonl_block(path, carry, number, first, limits)
        if batch.num_rows:
            yield batch


def _jsonl_block(
    path: Path, block: bytes, before: int, first: bool, limits: Limits
) -> pa.RecordBatch:
    if first and block.startswith(b"\xef\xbb\xbf"):
        block = block[3:]
    parts = pa.array(block.split(b"\n"), pa.binary())
    lengths = pc.binary_length(parts)
    if pc.max(lengths).as_py() > limits.record_bytes:
        at = pc.index(pc.greater(lengths, limits.record_bytes), True).as_py()
        raise limits.record_too_long(str(path), f"line {before + at + 1}")
    lines = pa.array(np.arange(before + 1, before + len(parts) + 1, dtype=np.int64))
    try:
        text = parts.cast(pa.string())  # checks UTF-8
        errors = pa.nulls(len(parts), pa.string())
    except pa.ArrowInvalid:
        decoded, problems = [], []
        for raw in parts.to_pylist():
            try:
                decoded.append(raw.decode("utf-8"))
                problems.append(None)
            except UnicodeDecodeError as e:
                decoded.append(raw.decode("utf-8", errors="replace"))
                problems.append(
                    f"line is not valid UTF-8 (byte {e.start + 1}); save the file as UTF-8"
                )
        text, errors = pa.array(decoded, pa.string()), pa.array(problems, pa.string())
    text = pc.utf8_rtrim(text, characters="\r")
    keep = pc.invert(pc.equal(pc.utf8_trim_whitespace(text), ""))  # blank lines are no records
    batch = _typed_block(
        lines, pc.utf8_slice_codeunits(text, 0, MAX_RAW_CHARS), text, errors
    ).filter(keep)
    opening = batch.column(2)[0].as_py().strip() if first and batch.num_rows else ""
    if opening == "[" or opening.replace(" ", "").startswith("[{"):
        raise IngestError(
            f"{path}: a JSON array, but tierwatch reads newline-delimited JSON "
            f"(one object per line). Convert it with: jq -c '.[]' {path} > "
            f"{path.with_suffix('').name}.jsonl"
        )
    return batch


_NOT_UTF8 = re.compile("[\udc80-\udcff]")  # bytes that were not UTF-8, kept as surrogates


class _CsvLines:
    """The physical lines of a CSV text for csv.reader, one at a time: which lines each row
    took, lines given back to be read again, and no line longer than the record limit."""

    def __init__(self, text: io.TextIOBase, path: Path, limits: Limits):
        self.text, self.path, self.limits = text, path, limits
        self.number = 0  # lines read from the text
        self.back: list[tuple[int, str]] = []  # given back, the next one last
        self.taken: list[tuple[int, str]] = []  # (line number, text) of the row being read
        self.taken_chars = 0

    def __iter__(self):
        return self

    def __next__(self) -> str:
        if self.back:
            number, line = self.back.pop()
        else:
            line = self.text.readline(self.limits.record_bytes + 1)
            if not line:
                raise StopIteration
            self.number += 1
            number = self.number
            if len(line) > self.limits.record_bytes:
                raise self.limits.record_too_long(str(self.path), f"line {number}")
        self.taken.append((number, line))
        self.taken_chars += len(line)
        if self.taken_chars > self.limits.record_bytes and len(self.taken) > 1:
            raise _RunawayQuote  # a quote left open: the row would swallow the file
        return line

    def start_row(self) -> None:
        self.taken, self.taken_chars = [], 0

    def give_back(self, lines: list[tuple[int, str]]) -> None:
        self.back.extend(reversed(lines))


class _RunawayQuote(Exception):
    pass


def _csv_header(header: list[str], path: Path) -> str | None:
    """IngestError when a CSV header cannot name the columns; else the problem every row of
    the file then has (a required column absent), or None."""
    if not any(header):
        raise IngestError(f"{path}: the first line must be a CSV header naming the columns")
    blanks = [i + 1 for i, h in enumerate(header) if not h]
    if blanks:
        raise IngestError(f"{path}: CSV header column {blanks[0]} has no name; name every column")
    twice = sorted({h for h in header if header.count(h) > 1})
    if twice:
        raise IngestError(
            f"{path}: CSV header names the column {twice[0]} twice; name each column once"
        )
    required = [f.name for f in validate.attempt_fields() if f.required and f.name != "tier"]
    absent = [name for name in required if name not in header]
    if absent:
        return f"the CSV header has no {absent[0]} column, which every record needs; add it"
    return None


def read_csv(
    path: Path, progress: Progress | None = None, limits: Limits | None = None, typed: bool = False
) -> Iterator[pa.RecordBatch | TypedBlock]:
    """CSV rows as staged records. A row may span lines only inside a quoted value, and only
    when it then has the header's number of values: a quote left open is a reject naming its
    line, and the lines after it are read again as rows of their own. `typed`: blocks of
    plain lines take the typed path (_plain_csv), the rest of the file is read as here from
    the first block that is not plain."""
    limits = limits or Limits()
    csv.field_size_limit(max(limits.record_bytes, 1))
    with open_input(path, progress, limits) as binary:
        header, before, stream = None, 0, binary
        if typed:
            stopped = yield from _plain_csv(binary, path, limits)
            if stopped is None:
                return
            header, before, pending = stopped
            stream = _Prefixed(pending, binary)
        # a byte-order mark is the file's first bytes, never those after a plain block's
        encoding = "utf-8-sig" if header is None else "utf-8"
        with io.TextIOWrapper(
            stream, encoding=encoding, errors="surrogateescape", newline=""
        ) as text:
            yield from _csv_rows(text, path, limits, header, before)


def _csv_rows(
    text: io.TextIOBase, path: Path, limits: Limits, header: list[str] | None, before: int
) -> Iterator[pa.RecordBatch]:
    """read_csv's rows of `text`, which starts after line `before`; its first line is the
    header unless `header` is given (read already)."""
    source = _CsvLines(text, path, limits)
    source.number = before
    reader = csv.reader(source, strict=True)
    if header is None:
        try:
            header = next(reader)
        except StopIteration:
            return
        except (csv.Error, _RunawayQuote) as e:
            raise IngestError(f"{path}: the CSV header cannot be read: {e}") from None
        header = [h.strip() for h in header]
    header_problem = _csv_header(header, path)
    lines: list[int] = []
    raws: list[str] = []
    docs: list[str | None] = []
    errors: list[str | None] = []

    def reject(number: int, raw: str, reason: str) -> None:
        if _NOT_UTF8.search(raw):  # shown with U+FFFD where its bytes were not UTF-8
            raw = raw.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
        lines.append(number)
        raws.append(_clip(raw.rstrip("\r\n")))
        docs.append(None)
        errors.append(reason)

    while True:
        source.start_row()
        try:
            row = next(reader)
        except StopIteration:
            break
        except (csv.Error, _RunawayQuote) as e:
            taken = source.taken
            if not taken:
                break
            (number, first), rest = taken[0], taken[1:]
            if rest or isinstance(e, _RunawayQuote):
                reject(number, first, _open_quote(number, len(taken)))
                source.give_back(rest)
            else:
                reject(number, first, f"row cannot be parsed as CSV: {e}")
            continue
        taken = source.taken
        number = taken[0][0]
        raw = "".join(t for _, t in taken)
        if len(taken) > 1 and len(row) != len(header):
            # a quoted value ran over line ends and the row came out wrong: the quote was
            # left open on the first line; read the others again as rows of their own
            reject(number, taken[0][1], _open_quote(number, len(taken)))
            source.give_back(taken[1:])
            continue
        if not row or all(not cell.strip() for cell in row):
            continue
        if _NOT_UTF8.search(raw):
            reject(number, raw, "row is not valid UTF-8; save the file as UTF-8")
        elif len(row) != len(header):
            reject(
                number,
                raw,
                f"row has {len(row)} values but the header names {len(header)} columns; "
                f"quote values that contain commas",
            )
        else:
            lines.append(number)
            raws.append(_clip(raw.rstrip("\r\n")))
            cells = (c.strip() for c in row)
            docs.append(json.dumps({k: c for k, c in zip(header, cells, strict=True) if c}))
            errors.append(header_problem)
        if len(lines) >= CHUNK_RECORDS:
            yield _chunk(lines, raws, docs, False, errors)
            lines, raws, docs, errors = [], [], [], []
    if lines:
        yield _chunk(lines, raws, docs, False, errors)


def _open_quote(number: int, spanned: int) -> str:
    return (
        f"a quote opened on line {number} is not closed on that line, and reading on "
        f"across {spanned - 1} more line(s) does not give a row; close the quote (a quote "
        f'inside a quoted value is written twice: "")'
    )


class _Prefixed(io.RawIOBase):
    """Bytes already read, then the rest of a stream: where read_csv's plain blocks stop, the
    line-by-line reader goes on from the same byte."""

    def __init__(self, head: bytes, rest: io.BufferedIOBase):
        self.head, self.rest = memoryview(head), rest

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        if self.head:
            n = min(len(b), len(self.head))
            b[:n] = self.head[:n]
            self.head = self.head[n:]
            return n
        data = self.rest.read(len(b))
        b[: len(data)] = data
        return len(data)


# the bytes of a plain CSV block: printable ASCII and tabs, no quotes, and carriage returns
# only as part of CRLF line ends. Such a line is a row split at its commas, each value
# stripped of spaces and tabs, exactly as csv.reader and str.strip read it
_PLAIN_BYTES = bytes(range(0x20, 0x7F)).replace(b'"', b"") + b"\t\n"


def _plain(data: bytes) -> bytes | None:
    """`data` with its CRLF line ends as LF when it is plain; None when it is not."""
    if b"\r" in data:
        if data.count(b"\r") != data.count(b"\r\n"):
            return None  # a carriage return of its own ends a row for csv.reader
        data = data.replace(b"\r\n", b"\n")
    return None if data.translate(None, _PLAIN_BYTES) else data


def _plain_csv(binary: io.BufferedIOBase, path: Path, limits: Limits) -> Iterator[TypedBlock]:
    """read_csv's typed path: the file's rows as TypedBlocks for as long as its blocks are
    plain (_plain, under the record limit, every row of the header's width) and its
    header names fields of the format only, all it requires among them. Returns None when
    the whole file was read so, else where it stopped: (the header, or None when it was not
    read; the lines before; the bytes read and not used), for the line-by-line reader."""
    header: list[str] | None = None
    number = 0
    carry = b""
    known = _typed_names()
    while True:
        data = binary.read(CSV_BLOCK_BYTES)
        block = carry + data
        cut = len(block) - 1 if not data else block.rfind(b"\n")
        if data and cut < 0:
            carry = block
            if len(carry) >= limits.record_bytes:
                return header, number, carry
            continue
        whole, carry = block[: cut + 1], block[cut + 1 :]
        if not whole:
            return None if header is not None else (None, 0, b"")
        if header is None:
            first, _, body = whole.removeprefix(b"\xef\xbb\xbf").partition(b"\n")  # BOM
            first = _plain(first + b"\n")
            names = [h.strip() for h in (first or b"").decode("ascii").split(",")]
            try:
                clean = first is not None and _csv_header(names, path) is None
            except IngestError:
                clean = False
            if not clean or not set(names) <= known:
                return None, 0, whole + carry
            header, number, whole = names, 1, body
        lines = _plain(whole)
        rows = None if lines is None else _plain_csv_block(lines, header, number, limits)
        if rows is None:
            return header, number, whole + carry
        number += whole.count(b"\n") + (bool(whole) and not whole.endswith(b"\n"))
        families = dict.fromkeys(header, "csv")
        for start in range(0, rows.num_rows, CHUNK_RECORDS):  # checked as the JSON path's
            yield TypedBlock(rows.slice(start, CHUNK_RECORDS), families, text=True)
        if not data:
            return None


def _plain_csv_block(
    whole: bytes, header: list[str], before: int, limits: Limits
) -> pa.RecordBatch | None:
    """Plain lines (whole lines, after line `before`) as the rows of TypedBlocks, or None
    when a line could pass the record limit or a row is not the header's width."""
    text = whole[:-1] if whole.endswith(b"\n") else whole
    parts = (
        pc.list_flatten(pc.split_pattern(pa.array([text], pa.string()), "\n"))
        if whole
        else pa.array([], pa.string())
    )
    lines = pa.array(np.arange(before + 1, before + len(parts) + 1, dtype=np.int64))
    if len(parts) and pc.max(pc.binary_length(parts)).as_py() >= limits.record_bytes:
        return None
    blank = pc.equal(pc.ascii_trim(parts, " \t,"), "")  # every value empty: not a row
    parts, lines = parts.filter(pc.invert(blank)), lines.filter(pc.invert(blank))
    cells = pc.split_pattern(parts, ",")
    width = len(header)
    if len(parts) and not pc.all(pc.equal(pc.list_value_length(cells), width)).as_py():
        return None
    flat = pc.ascii_trim_whitespace(pc.list_flatten(cells))
    columns = {name: flat.take(np.arange(j, len(flat), width)) for j, name in enumerate(header)}
    columns[_LINE_COLUMN] = lines
    columns[_RAW_COLUMN] = _clipped(parts, pc.utf8_length(parts))
    return pa.RecordBatch.from_pydict(columns)


@dataclass
class TypedBlock:
    """Rows of a Parquet file, or plain CSV lines, whose columns are all fields of the
    format, each of a type the checks read as it is (validate.typed_pull_sql): checked from
    the columns, with no JSON text per row. The rows' line numbers are the column
    `__tierwatch_line`. The checks, reasons, hashes and verdicts are those of the JSON path
    (tests/test_typed_path.py compares the two on hostile files); the text of a rejected
    row is made for it alone (CSV: each row's text is in `__tierwatch_raw`)."""

    batch: pa.RecordBatch
    families: dict[str, str]  # column -> validate._TYPED_PULL key
    text: bool = False  # CSV: values as text, no JSON types; each row's text in __tierwatch_raw

    @property
    def num_rows(self) -> int:
        return self.batch.num_rows


TYPED_READS = True  # Parquet and CSV take the typed path where they can (tests turn it off)
_LINE_COLUMN = "__tierwatch_line"
_RAW_COLUMN = "__tierwatch_raw"


def _typed_names() -> set[str]:
    """The columns a typed block may have: the format's attempt fields, but `record` (a row
    that says it is a downstream failure, or has unknown fields, goes through JSON text)."""
    return {f.name for f in validate.attempt_fields()} - {"record"}


def _typed_families(schema: pa.Schema) -> dict[str, str] | None:
    """Each column's family for the typed path, or None when a column keeps the file on the
    JSON path: a name the format does not know for attempts (unknown fields go to `extra`,
    `record` may make a row a downstream failure), a name twice, or a type without a rule
    here (decimals, half floats, nested values, binary)."""
    names = schema.names
    if len(set(names)) != len(names) or not set(names) <= _typed_names():
        return None
    families = {}
    for f in schema:
        t = f.type
        if pa.types.is_string(t) or pa.types.is_large_string(t):
            families[f.name] = "string"
        elif pa.types.is_integer(t):
            families[f.name] = "integer"
        elif pa.types.is_float32(t) or pa.types.is_float64(t):
            families[f.name] = "float"
        elif pa.types.is_boolean(t):
            families[f.name] = "boolean"
        elif pa.types.is_timestamp(t) or pa.types.is_date(t):
            families[f.name] = "text"
        elif pa.types.is_null(t):
            families[f.name] = "null"
        else:
            return None
    return families


def _typed_fits(batch: pa.RecordBatch, families: dict[str, str], limits: Limits) -> bool:
    """Whether the batch can take the typed path: no NaN or infinite float (their JSON text
    is the bare words NaN and Infinity, outside JSON proper, which DuckDB writes and reads
    back as doubles: left to the path that goes through that text, out of caution), and no
    row whose JSON text could pass the record limit (a bound: six characters per string
    character, as escaped)."""
    longest = 2
    for name, family in families.items():
        column = batch.column(name)
        longest += len(name) + 4
        if family == "float" and column.null_count < len(column):
            if pc.any(pc.or_(pc.is_nan(column), pc.is_inf(column))).as_py():
                return False
        if family == "string":
            most = pc.max(pc.utf8_length(column)).as_py() if len(column) else 0
            longest += 6 * (most or 0) + 2
        else:
            longest += 40
    return longest <= limits.record_bytes


def read_parquet(
    path: Path,
    progress: Progress | None = None,
    limits: Limits | None = None,
    typed: bool = False,
) -> Iterator[pa.RecordBatch | TypedBlock]:
    """Parquet rows as staged records, typed as their columns are. A file whose row groups
    hold more rows than its footer says is refused: the footer is what a reader (and the
    dashboard's upload limit) trusts. `typed`: yield TypedBlocks where the columns allow."""
    limits = limits or Limits()
    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as e:
        raise IngestError(f"{path}: not a readable Parquet file ({e})") from None
    size = path.stat().st_size
    claimed = pf.metadata.num_rows
    families = _typed_families(pf.schema_arrow) if typed else None
    line = 0
    scratch = store.connect_memory()
    try:
        for batch in _parquet_batches(pf, path):  # noqa: B007 - read by name in SQL
            if line + batch.num_rows > claimed:
                raise IngestError(
                    f"{path}: holds more rows than its footer says ({claimed:,}); the file is "
                    f"damaged or was not written by a Parquet writer, and nothing of it was "
                    f"stored. Write it again (e.g. with pyarrow or DuckDB)"
                )
            n = batch.num_rows
            if families is not None and _typed_fits(batch, families, limits):
                lines = pa.array(np.arange(line + 1, line + n + 1, dtype=np.int64))
                line += n
                if progress:
                    progress(size * n // max(claimed, 1))
                yield TypedBlock(batch.append_column(_LINE_COLUMN, lines), families)
                continue
            # DuckDB writes each row as a JSON object, keeping column types (ints stay ints);
            # the texts stay in Arrow, never a Python string each
            docs = (
                scratch.sql("select cast(to_json(b) as varchar) as doc from batch as b")
                .to_arrow_table()
                .column(0)
                .combine_chunks()
            )
            n = len(docs)
            lengths = pc.utf8_length(docs)
            if n and pc.max(lengths).as_py() > limits.record_bytes:
                at = pc.index(pc.greater(lengths, limits.record_bytes), True).as_py()
                raise limits.record_too_long(str(path), f"row {line + at + 1}")
            raws = _clipped(docs, lengths)
            lines = pa.array(np.arange(line + 1, line + n + 1, dtype=np.int64))
            line += n
            if progress:
                progress(size * n // max(claimed, 1))
            yield _typed_block(lines, raws, docs)
    finally:
        scratch.close()


def _parquet_batches(pf: pq.ParquetFile, path: Path) -> Iterator[pa.RecordBatch]:
    batches = pf.iter_batches(batch_size=CHUNK_RECORDS)
    while True:
        try:
            batch = next(batches)
        except StopIteration:
            return
        except (pa.ArrowException, OSError) as e:
            raise IngestError(f"{path}: cannot be read ({e}); nothing of it was stored") from None
        yield batch


READERS = {"jsonl": read_jsonl, "csv": read_csv, "parquet": read_parquet}


def _named(batches: Iterator[pa.RecordBatch], path: Path, label: str):
    """The reader's batches, with a limit's message naming the file as the user knows it (an
    upload's own name, not the temporary file it was written to)."""
    try:
        yield from batches
    except InputLimit as e:
        text = str(e)
        if label != str(path) and text.startswith(str(path)):
            raise InputLimit(label + text[len(str(path)) :]) from None
        raise


def read_source(
    form: str,
    path: Path,
    label: str,
    config: Config,
    result: FileResult,
    limits: Limits | None = None,
    stored: sources.StoredAttempts | None = None,
    judged: sources.JudgedCalls | None = None,
) -> Iterator[pa.RecordBatch]:
    """A source file (OTLP, LiteLLM, Langfuse) as staged blocks of v1 attempt records; what
    is not a model call is counted in `result.skipped_kinds`; `stored` and `judged` as in
    sources.read (`stored_attempts(con)`, `judged_stored_calls(con)`)."""
    yield from _record_blocks(
        lambda: sources.read(
            form,
            path,
            label,
            config.tier_for_model,
            config.sources,
            result.skipped_kinds,
            limits or Limits(),
            stored,
            judged,
        )
    )


def read_spans(
    spans: list, config: Config, result: FileResult, stored: sources.StoredAttempts | None = None
) -> Iterator[pa.RecordBatch]:
    """Decoded OTLP spans (the receiver's) as staged blocks, by the same mapping as a file;
    `stored` as in sources.read_spans."""
    yield from _record_blocks(
        lambda: sources.read_spans(
            spans, config.tier_for_model, config.sources, result.skipped_kinds, stored
        )
    )


_LAST_STORED_ATTEMPTS = store.sql_file("last_stored_attempts.sql")


def stored_attempts(con: duckdb.DuckDBPyConnection) -> sources.StoredAttempts:
    """The store's last attempt (number, status) of each (task id, role) asked, begun
    before the task's first call being derived, from other calls (last_stored_attempts.sql)."""

    def last(first: dict[tuple[str, str], tuple[float | None, str]], call_ids: set[str]) -> dict:
        keys = list(first)
        starts = [first[k][0] for k in keys]
        tasks = pa.table(
            {
                "task_id": [k[0] for k in keys],
                "role": [k[1] for k in keys],
                "first_us": [None if t is None else round(t * 1e6) for t in starts],
                "first_call": [first[k][1] for k in keys],
            },
            schema=pa.schema(
                [
                    ("task_id", pa.string()),
                    ("role", pa.string()),
                    ("first_us", pa.int64()),
                    ("first_call", pa.string()),
                ]
            ),
        )
        calls = pa.table({"call_id": pa.array(sorted(call_ids), pa.string())})
        _ensure_grouped_attempts(con)
        con.register("deriving_tasks", tasks)
        con.register("deriving_calls", calls)
        try:
            rows = con.execute(_LAST_STORED_ATTEMPTS).fetchall()
        finally:
            con.unregister("deriving_tasks")
            con.unregister("deriving_calls")
        return {(t, r): (n, status) for t, r, n, status in rows}

    return last


_JUDGED_STORED_CALLS = store.sql_file("judged_stored_calls.sql")


def judged_stored_calls(con: duckdb.DuckDBPyConnection) -> sources.JudgedCalls:
    """The stored call each asked Langfuse score (trace id, observation id or None) judges,
    and whether it is its task's last (judged_stored_calls.sql)."""

    def judged(asks: list[tuple[str, str | None]]) -> dict[int, sources.records.Judged]:
        table = pa.table(
            {
                "score_key": pa.array(range(len(asks)), pa.int64()),
                "trace_id": pa.array([t for t, _ in asks], pa.string()),
                "observation_id": pa.array([o for _, o in asks], pa.string()),
            }
        )
        _ensure_grouped_attempts(con)
        con.register("judged_asks", table)
        try:
            rows = con.execute(_JUDGED_STORED_CALLS).fetchall()
        finally:
            con.unregister("judged_asks")
        return {
            k: sources.records.Judged(task, last, None if end is None else end / 1e6)
            for k, task, _role, end, last in rows
        }

    return judged


def _record_blocks(records: Callable[[], Iterable]) -> Iterator[pa.RecordBatch]:
    lines, raws, docs, errors, locators = [], [], [], [], []
    try:
        for number, raw, record, problem, where in records():
            lines.append(number)
            raws.append(raw)
            docs.append(None if record is None else json.dumps(record, default=str))
            errors.append(problem)
            locators.append(where)
            if len(lines) >= CHUNK_RECORDS:
                yield _chunk(lines, raws, docs, True, errors, locators)
                lines, raws, docs, errors, locators = [], [], [], [], []
    except sources.SourceError as e:
        raise IngestError(str(e)) from None
    if lines:
        yield _chunk(lines, raws, docs, True, errors, locators)


# --- loading ---------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


_ATTEMPT_COLUMNS = (
    "task_id, role, attempt, ts, task_type, tier, planner_tier, model, input_tokens, "
    "output_tokens, cached_input_tokens, cost_usd, confidence, confidence_label, "
    "confidence_source, status, escalation_reason, downstream_failure, plan_id, fleet, agent, "
    "latency_ms, extra, record_hash, file_id, line"
)


@functools.cache
def _chunk_sql(name: str) -> str:
    """A statement of the chunk load, in ingest/chunk/ (one file per step, in order)."""
    return (resources.files("tierwatch.ingest") / "chunk" / f"{name}.sql").read_text("utf-8")


LINE_BITS = 40  # a chunk of several files stages line (file's place << LINE_BITS) | line


def _load_chunk(
    con: duckdb.DuckDBPyConnection,
    batch: pa.RecordBatch | pa.Table,
    config: Config,
    files: list[tuple[int, str]],
) -> dict[int, tuple[int, int, int, int]]:
    """Check one staged chunk and write it: (loaded, duplicates, rejected, downstream
    failures among the loaded and duplicates) for each file's
    place k in `files` ((file_id, path as shown)) that staged records. A chunk of several
    files numbers its lines (k << LINE_BITS) | line, so one pass of the checks serves them
    all; a chunk of one file has k = 0 and its own line numbers."""
    typed = isinstance(batch, TypedBlock)
    if typed:
        con.register("typed_batch", batch.batch)
        con.execute(
            "create or replace temp table stage as "
            + validate.typed_pull_sql(batch.families, "typed_batch", text=batch.text)
        )
    else:
        con.register("stage_batch", batch)
        con.execute("create or replace temp table stage as select * from stage_batch")
        con.unregister("stage_batch")
    con.register(
        "chunk_files_batch",
        pa.table(
            {
                "k": pa.array(range(len(files)), pa.int64()),
                "file_id": pa.array([f for f, _ in files], pa.int64()),
                "path": pa.array([p for _, p in files], pa.string()),
            }
        ),
    )
    con.execute("create or replace temp table chunk_files as from chunk_files_batch")
    con.unregister("chunk_files_batch")

    # records that are not JSON objects at all never reach the field checks, nor do records
    # that name a field twice (JSON readers disagree on which value wins); a typed block's
    # rows are objects of distinct columns by construction
    if not typed:
        con.execute(_chunk_sql("not_objects"))
    # models without a tier field map to a tier through the config's globs
    model = (
        f"v[{validate.paths().index('model') + 1}]"
        if typed
        else "json_extract_string(doc, '$.model')"
    )
    models = [
        r[0]
        for r in con.execute(
            f"select distinct {model} from stage where parse_error is null"
        ).fetchall()
        if r[0] is not None
    ]
    mapping = []
    for m in models:
        tier = config.tier_for_model(m)
        mapping.append((m, tier, None if tier else config.no_tier_advice(m)))
    con.execute(
        "create or replace temp table model_tier (model varchar, tier varchar, advice varchar)"
    )
    if mapping:
        con.executemany("insert into model_tier values (?, ?, ?)", mapping)

    identity.register(con)
    con.execute(
        f"create or replace temp table checked as {validate.check_sql(prepulled=typed)}",
        {"ladder": list(config.ladder)},
    )
    con.execute(
        validate.EXTRAS_SQL,
        {
            "attempt_patch": validate.known_patch("attempt"),
            "downstream_patch": validate.known_patch("downstream_failure"),
        },
    )
    con.execute(_chunk_sql("good"))
    con.execute(_chunk_sql("verdicts"))
    bits = {"line_bits": LINE_BITS, "line_mask": (1 << LINE_BITS) - 1}
    con.execute(
        f"""
        insert into staging_attempts ({_ATTEMPT_COLUMNS})
        select g.task_id, g.role, g.attempt, g.ts, g.task_type, g.tier, g.planner_tier,
            g.model, g.input_tokens, g.output_tokens, g.cached_input_tokens, g.cost_usd,
            g.confidence, g.confidence_label,
            g.confidence_source, g.status, g.escalation_reason, g.downstream_failure,
            g.plan_id, g.fleet, g.agent, g.latency_ms, g.extra, g.record_hash,
            f.file_id, g.line & $line_mask
        from good as g
        join verdicts as v using (line)
        join chunk_files as f on f.k = g.line >> $line_bits
        where g.kind = 'attempt' and v.verdict = 'new'
        """,
        bits,
    )
    con.execute(
        """
        insert into staging_downstream_failures
        select g.task_id, g.ts, g.detected_by, g.extra, g.record_hash,
            f.file_id, g.line & $line_mask
        from good as g
        join verdicts as v using (line)
        join chunk_files as f on f.k = g.line >> $line_bits
        where g.kind = 'downstream_failure' and v.verdict = 'new'
        """,
        bits,
    )
    if typed:
        if not batch.text:  # a CSV block carries each row's text already
            _typed_raws(con, batch)
        con.unregister("typed_batch")
    con.execute(_chunk_sql("staged_rejects"), {**bits, "sources": [*sources.SOURCES, "otlp-http"]})
    rows = con.execute(_chunk_sql("file_counts"), {"line_bits": LINE_BITS}).fetchall()
    return {k: tuple(counts) for k, *counts in rows}


def _typed_raws(con: duckdb.DuckDBPyConnection, block: TypedBlock) -> None:
    """The text of each rejected or conflicting row of a typed block (what the JSON path
    keeps of every row, `raw`): its JSON object, as that path writes it, clipped alike."""
    columns = ", ".join(f'"{n}" := "{n}"' for n in block.families)  # the format's names
    con.execute(
        f"""
        create or replace temp table typed_raws as
        with wanted as (
            select line from checked where problem is not null
            union
            select line from verdicts where verdict like 'conflict%'
        ),
        texts as (
            select __tierwatch_line as line,
                cast(to_json(struct_pack({columns})) as varchar) as doc
            from typed_batch semi join wanted on wanted.line = __tierwatch_line
        )
        select line, case when length(doc) > $most then left(doc, $most) || '…' else doc end
            as raw
        from texts
        """,
        {"most": MAX_RAW_CHARS},
    )
    for table in ("checked", "good", "stage"):
        con.execute(
            f"update {table} set raw = r.raw from typed_raws as r where {table}.line = r.line"
        )


@dataclass
class _Entry:
    """A file being loaded: its accounting and what its ledger row records."""

    result: FileResult
    file_id: int
    digest: str
    size: int
    started: dt.datetime
    staged: bool = True  # False: the same bytes were loaded before, nothing is staged


def _begin(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    fmt: str,
    display_name: str | None,
    loaded_by: str | None,
    progress: Progress | None = None,
) -> tuple[_Entry, str]:
    """A file's entry (its id drawn, its digest taken) and its format; IngestError when it
    cannot be read. The same bytes loaded before with nothing rejected are all duplicates:
    the entry then says so and nothing of it needs reading."""
    label = display_name or str(path)
    form = _format_of(Path(display_name) if display_name else path, fmt, content=path)
    try:
        size = path.stat().st_size
    except OSError as e:
        raise IngestError(f"{label}: cannot be read ({e.strerror})") from None
    if not os.access(path, os.R_OK):
        raise IngestError(f"{label}: cannot be read (permission denied)")
    digest = _sha256(path)
    result = FileResult(path=label, format=form, loaded_by=loaded_by or _os_user())
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # the downstream failures of those bytes: as many as their first load stored (fewer
    # when that load found some already stored from other bytes)
    earlier = con.execute(
        "select read, skipped, skipped_kinds, (select count(*) from downstream_failures as d "
        "where d.file_id = i.file_id) from ingested_files as i "
        "where sha256 = ? and rejected = 0 order by file_id limit 1",
        [digest],
    ).fetchall()
    earlier = earlier[0] if earlier else None
    file_id = con.execute("select nextval('file_id_seq')").fetchall()[0][0]
    entry = _Entry(result, file_id, digest, size, started, staged=earlier is None)
    if earlier is not None:
        result.read, result.skipped = earlier[0], earlier[1]
        result.duplicates = result.read - result.skipped
        result.downstream_failures = earlier[3]
        result.skipped_kinds.update(json.loads(earlier[2]) if earlier[2] else {})
        if progress:
            progress(size)
    return entry, form


def _batches(
    con: duckdb.DuckDBPyConnection,
    path: Path,
    form: str,
    config: Config,
    result: FileResult,
    progress: Progress | None = None,
    typed: bool = False,
) -> Iterator[pa.RecordBatch | TypedBlock]:
    """The file's records as staged blocks, by its format's reader; `typed`: Parquet's and
    CSV's typed blocks where they can (read_parquet, read_csv)."""
    limits = Limits.of(config.settings)
    if form in sources.SOURCES:
        return read_source(
            form,
            path,
            result.path,
            config,
            result,
            limits,
            stored_attempts(con),
            judged_stored_calls(con),
        )
    if form in ("parquet", "csv"):
        return _named(READERS[form](path, progress, limits, typed), path, result.path)
    return _named(READERS[form](path, progress, limits), path, result.path)


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    path: str | os.PathLike,
    config: Config,
    fmt: str = "auto",
    display_name: str | None = None,
    progress: Progress | None = None,
    loaded_by: str | None = None,
) -> FileResult:
    """Load one file on an open writable connection, atomically; its accounting.

    `display_name` is the name shown and stored for the file (an upload's original name).
    Raises IngestError when the file cannot be read at all; the store is then unchanged.
    """
    path = Path(path)
    store.ensure_ladder(con, config)
    store.clear_staging(con)  # what a load that died left behind
    entry, form = _begin(con, path, fmt, display_name, loaded_by, progress)
    result = entry.result
    if entry.staged:
        batches = _batches(con, path, form, config, result, progress, typed=TYPED_READS)
        stage_blocks(con, batches, config, entry.file_id, result.path, result)
    _commit(con, [entry])
    _file_facts(con, [entry], config)
    return result


# files up to this size are loaded many in one pass of the checks and one transaction:
# a pass costs about 0.1 s whatever its size, which a folder of one-call objects (LiteLLM's
# S3 logger writes one per call) would otherwise pay per file
SMALL_FILE_BYTES = 1 << 20
GROUP_FILES = 1_000  # files of a pass, at most
GROUP_RECORDS = 50_000  # records of a pass: a pass closes at the file that reaches it


def ingest_small_files(
    con: duckdb.DuckDBPyConnection,
    paths: list[Path],
    config: Config,
    fmt: str = "auto",
    progress: Callable[[Path, int], None] | None = None,
    names: Mapping[Path, str] | None = None,
    loaded_by: str | None = None,
) -> Iterator[tuple[Path, FileResult | IngestError]]:
    """Load small files, many in one pass: each file's records read, all of a pass's
    records checked in one statement and committed in one transaction, each file with its
    own ledger row, accounting, rejects (its own lines) and verdicts as if loaded alone.
    Yields (path, its result or the IngestError that kept it out) as each pass commits; a
    file that cannot be read stays out and the others load. A store failure raises, and the
    pass under way is not stored.

    A task whose calls are spread over files (one per call) is numbered on from the files
    before it in the pass as from the store (`grouped_attempts`, read by
    last_stored_attempts.sql). A record of an earlier file that the checks reject then still
    holds its number, where a file loaded alone after that one would take it.

    `names[path]`: the name shown and stored for a file (an upload's own name), as
    ingest_file's `display_name`; `loaded_by` as ingest_file's."""
    store.ensure_ladder(con, config)
    pending: list[tuple[Path, _Entry, list[pa.RecordBatch]]] = []
    refused: list[tuple[Path, IngestError]] = []
    records = 0

    def flush() -> Iterator[tuple[Path, FileResult | IngestError]]:
        nonlocal records
        try:
            yield from _load_pass(con, pending, config)
        finally:
            pending.clear()
            records = 0
            try:
                con.execute("delete from grouped_attempts")
            except duckdb.Error:
                pass  # a connection the failure invalidated: the error raised is the one
        yield from refused
        refused.clear()

    store.clear_staging(con)
    _ensure_grouped_attempts(con)
    for path in paths:
        try:
            name = names.get(path) if names else None
            entry, form = _begin(con, path, fmt, name, loaded_by)
            blocks: list[pa.RecordBatch] = []
            if entry.staged:
                blocks = _read_whole(con, path, form, config, entry.result)
        except IngestError as e:
            refused.append((path, e))
        else:
            k = len(pending)
            blocks = [_placed(b, k) for b in blocks]
            if form in sources.SOURCES:
                _note_grouped(con, blocks)
            pending.append((path, entry, blocks))
            records += sum(b.num_rows for b in blocks)
        if progress:
            progress(path, _size(path))
        if len(pending) >= GROUP_FILES or records >= GROUP_RECORDS:
            yield from flush()
    yield from flush()


def _read_whole(
    con: duckdb.DuckDBPyConnection, path: Path, form: str, config: Config, result: FileResult
) -> list[pa.RecordBatch]:
    """A small file's blocks, all read; IngestError (naming the file) when it cannot be."""
    label = result.path
    try:
        return list(_batches(con, path, form, config, result))
    except (OSError, EOFError, gzip.BadGzipFile, zlib_error()) as e:
        raise IngestError(f"{label}: cannot be read ({e})") from None
    except InputLimit as e:
        raise IngestError(str(e)) from None


def _placed(batch: pa.RecordBatch, k: int) -> pa.RecordBatch:
    """The block with its lines numbered as the k-th file of a pass (see _load_chunk)."""
    lines = pc.bit_wise_or(batch.column(0), pa.scalar(k << LINE_BITS, pa.int64()))
    return batch.set_column(0, "line", lines)


def _ensure_grouped_attempts(con: duckdb.DuckDBPyConnection) -> None:
    con.execute(
        "create temp table if not exists grouped_attempts (task_id varchar, role varchar, "
        "attempt bigint, ts_us bigint, status varchar, extra varchar)"
    )


def _note_grouped(con: duckdb.DuckDBPyConnection, blocks: list[pa.RecordBatch]) -> None:
    """A source file's attempts, for the numbering of the files after it in its pass."""
    for block in blocks:
        con.register("grouped_batch", block)
        con.execute(
            """
            insert into grouped_attempts
            select doc ->> 'task_id', coalesce(doc ->> 'role', 'executor'),
                try_cast(doc ->> 'attempt' as bigint),
                coalesce(round(try_cast(doc ->> 'ts' as double) * 1e6)::bigint,
                         epoch_us(try_cast(doc ->> 'ts' as timestamp))),
                doc ->> 'status', doc
            from grouped_batch
            where parse_error is null and doc is not null
              and (doc ->> 'record') is distinct from 'downstream_failure'
            """
        )
        con.unregister("grouped_batch")


def _load_pass(
    con: duckdb.DuckDBPyConnection,
    pending: list[tuple[Path, _Entry, list[pa.RecordBatch]]],
    config: Config,
) -> Iterator[tuple[Path, FileResult]]:
    """Check, stage and commit the files of one pass (ingest_small_files)."""
    if not pending:
        return
    entries = [e for _, e, _ in pending]
    blocks = [b for _, _, bs in pending for b in bs]
    try:
        if blocks:
            files = [(e.file_id, e.result.path) for e in entries]
            counts = _load_chunk(con, pa.Table.from_batches(blocks), config, files)
            for k, (_, entry, bs) in enumerate(pending):
                r = entry.result
                r.read += sum(b.num_rows for b in bs)
                r.loaded, r.duplicates, r.rejected, r.downstream_failures = counts.get(
                    k, (0, 0, 0, 0)
                )
            _shown_rejects(con, [e for e in entries if e.result.rejected])
    except BaseException:
        _undo(con)
        raise
    _commit(con, entries)
    _file_facts(con, entries, config)
    for path, entry, _ in pending:
        yield path, entry.result


def _shown_rejects(con: duckdb.DuckDBPyConnection, entries: list[_Entry]) -> None:
    """The first REJECTS_SHOWN staged rejects of each entry, into its result."""
    for e in entries:
        e.result.rejects = _staged_rejects(con, e.file_id)


def _staged_rejects(con: duckdb.DuckDBPyConnection, file_id: int) -> list[Reject]:
    rows = con.execute(
        "select line, field, reason, locator from staging_rejects where file_id = ? "
        "order by line limit ?",
        [file_id, REJECTS_SHOWN],
    ).fetchall()
    return [Reject(line=r[0], field=r[1], reason=r[2], locator=r[3]) for r in rows]


def stage_blocks(
    con: duckdb.DuckDBPyConnection,
    batches: Iterable[pa.RecordBatch],
    config: Config,
    file_id: int,
    label: str,
    result: FileResult,
) -> None:
    """Check and stage each block, in transactions of its own (see 002_staging.sql), adding
    to `result`'s accounting; the staged rejects shown are put in `result.rejects`. On any
    failure the staging tables are emptied and the store is as it was."""
    try:
        for batch in batches:
            counts = _load_chunk(con, batch, config, [(file_id, label)])
            loaded, duplicates, rejected, downstream = counts.get(0, (0, 0, 0, 0))
            result.read += batch.num_rows
            result.downstream_failures += downstream
            result.loaded += loaded
            result.duplicates += duplicates
            result.rejected += rejected
    except (OSError, EOFError, gzip.BadGzipFile, zlib_error()) as e:
        _undo(con)
        raise IngestError(f"{label}: cannot be read ({e})") from None
    except InputLimit as e:
        _undo(con)
        raise IngestError(str(e)) from None
    except duckdb.OutOfMemoryException:
        _undo(con)
        raise IngestError(_out_of_memory(label)) from None
    except BaseException:
        _undo(con)
        raise
    result.rejects = _staged_rejects(con, file_id)


def _os_user() -> str | None:
    """The operating-system user loading a file from a terminal (None when unknown)."""
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return None


def commit_staged(
    con: duckdb.DuckDBPyConnection,
    result: FileResult,
    *,
    file_id: int,
    digest: str,
    size: int,
    started: dt.datetime,
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Make what was staged for one file visible all at once, or not at all, with its
    ledger row; `also(con)` runs inside the same transaction (the receiver's bookkeeping)."""
    _commit(con, [_Entry(result, file_id, digest, size, started)], also)


def _commit(
    con: duckdb.DuckDBPyConnection,
    entries: list[_Entry],
    also: Callable[[duckdb.DuckDBPyConnection], None] | None = None,
) -> None:
    """Make what was staged for `entries` visible all at once, or not at all, with a ledger
    row for each. An entry not staged is a file whose records were all duplicates."""
    con.execute("begin transaction")
    try:
        if any(e.staged for e in entries):
            con.execute("insert into attempts select * from staging_attempts")
            con.execute("insert into downstream_failures select * from staging_downstream_failures")
            con.execute("insert into rejects select * from staging_rejects")
            con.execute(
                "create or replace temp table touched as "
                "select task_id from staging_attempts "
                "union select task_id from staging_downstream_failures"
            )
            store.refresh_derived(con)
            store.clear_staging(con)
        for e in entries:
            if e.staged:
                e.result.skipped = sum(e.result.skipped_kinds.values())
                e.result.read += e.result.skipped
        if also is not None:
            also(con)
        finished = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        con.executemany(
            "insert into ingested_files (file_id, path, sha256, size_bytes, format, read, "
            "loaded, duplicates, rejected, started_at, finished_at, skipped, skipped_kinds, "
            "loaded_by) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                [
                    e.file_id,
                    r.path,
                    e.digest,
                    e.size,
                    r.format,
                    r.read,
                    r.loaded,
                    r.duplicates,
                    r.rejected,
                    e.started,
                    finished,
                    r.skipped,
                    json.dumps(dict(r.skipped_kinds)) if r.skipped_kinds else None,
                    r.loaded_by,
                ]
                for e in entries
                for r in [e.result]
            ],
        )
        if any(e.result.loaded for e in entries):
            store.bump_data_version(con)
        con.execute("commit")
    except BaseException as e:
        _undo(con, rollback=True)
        if isinstance(e, duckdb.OutOfMemoryException):
            raise IngestError(_out_of_memory(entries[0].result.path)) from None
        raise
    for e in entries:
        r = e.result
        assert r.read == r.loaded + r.duplicates + r.rejected + r.skipped, r


# what a source's records may lack, and what the analyses that need it are (docs/sources.md)
_FACTS = (
    ("planner_tier", "failure by planner tier needs tierwatch.planner.tier"),
    ("confidence", "calibration needs tierwatch.confidence"),
    ("downstream_failure", "silent failures need tierwatch.downstream_failure"),
)


def _file_facts(con: duckdb.DuckDBPyConnection, entries: list[_Entry], config: Config) -> None:
    """What each loaded source file's attempts lack (`missing`), the LiteLLM answers after
    fallbacks it does not hold (`fallbacks_not_logged`) and its models without a price
    (`unpriced_models`), into its result: one query each for all the entries."""
    from tierwatch.ingest import model_prices

    of = {e.file_id: e.result for e in entries if e.result.format in sources.SOURCES}
    of = {i: r for i, r in of.items() if r.loaded}
    if not of:
        return
    ids = {"file_ids": list(of)}
    for file_id, *counts in con.execute(
        "select a.file_id, count(planner_tier), count(confidence), count(downstream_failure) "
        "+ (select count(*) from downstream_failures as d where d.file_id = a.file_id) "
        "from attempts as a where list_contains($file_ids, a.file_id) group by a.file_id",
        ids,
    ).fetchall():
        of[file_id].missing = [why for (_, why), n in zip(_FACTS, counts, strict=True) if n == 0]
    if any(r.format == "litellm" for r in of.values()):
        for file_id, answered, failed in con.execute(
            store.sql_file("fallbacks_not_logged.sql"), ids
        ).fetchall():
            of[file_id].fallbacks_not_logged = (answered, failed)
    if config.model_prices == "library":
        # models that log no cost and that neither the config nor the price library
        # prices: they are priced at their tier's price, and named
        for file_id, models in con.execute(
            "select file_id, list(distinct model order by model) from attempts "
            "where list_contains($file_ids, file_id) and model is not null "
            "and cost_usd is null group by file_id",
            ids,
        ).fetchall():
            of[file_id].unpriced_models = [
                m
                for m in models
                if model_prices.price_of(m) is None and not config.has_model_price(m)
            ]


def limit_memory(con: duckdb.DuckDBPyConnection) -> None:
    """DuckDB's memory limit for a load ($TIERWATCH_INGEST_MEMORY): past it DuckDB spills to
    disk, so a load's memory does not grow with the file."""
    limit = environment.value("ingest_memory")  # a size like 2GB, checked by its Setting
    con.execute(f"set memory_limit = '{limit}'")


def _out_of_memory(label: str) -> str:
    return (
        f"{label}: not loaded, DuckDB ran out of its memory limit "
        f"({environment.value('ingest_memory')}); nothing of this file was stored. Give it "
        f"more with {environment.variable('ingest_memory')}=4GB, "
        f"or split the file"
    )


def _undo(con: duckdb.DuckDBPyConnection, rollback: bool = False) -> None:
    """Empty the staging tables after a failure. A connection the failure invalidated (a
    full disk) refuses; the next open clears them (store.migrate), and the error that
    matters is the first one, so that is the one raised."""
    try:
        if rollback:
            con.execute("rollback")
        store.clear_staging(con)
    except duckdb.Error:
        pass


def zlib_error() -> type[Exception]:
    import zlib

    return zlib.error


def ingest_paths(
    db: str | os.PathLike | None,
    paths: Iterable[str | os.PathLike],
    config: Config,
    fmt: str = "auto",
    progress: Callable[[Path, int, int], None] | None = None,
    lock_wait: float = 0.0,
) -> IngestReport:
    """Load files, folders and globs into the store at `db`, each file atomically (small
    files many in one pass and transaction: ingest_small_files).

    A file that cannot be read at all is listed in the report's `errors` and the others
    still load. `progress(path, bytes_done, bytes_total)` is called as a file is read.
    """
    files = expand_paths(paths)
    for f in files:
        _format_of(f, fmt)  # fail on an unknown format before anything is written
    report = IngestReport()
    with store.open_store(db, read_only=False, wait=lock_wait) as con:
        limit_memory(con)
        done: set[Path] = set()
        try:
            for f, outcome in ingest_many(con, files, config, fmt, progress):
                done.add(f)
                if isinstance(outcome, IngestError):
                    report.errors.append((str(f), str(outcome)))
                else:
                    report.files.append(outcome)
        except (duckdb.Error, OSError) as e:
            if not store.is_store_failure(e):
                raise
            # the store itself failed (a full disk, a damaged file): later files would too
            where = next((f for f in files if f not in done), files[-1])
            later = len(files) - len(done) - 1
            rest = f"; the {later} files after it were not tried" if later else ""
            report.errors.append((str(where), f"{where}: not loaded: {store.explain(e)}{rest}"))
    return report


def ingest_many(
    con: duckdb.DuckDBPyConnection,
    files: list[Path],
    config: Config,
    fmt: str = "auto",
    progress: Callable[[Path, int, int], None] | None = None,
    names: Mapping[Path, str] | None = None,
    loaded_by: str | None = None,
) -> Iterator[tuple[Path, FileResult | IngestError]]:
    """Load files on an open writable connection, in order: each small file many in one
    pass (ingest_small_files), a larger one alone (ingest_file). Yields (file, its result
    or the IngestError that kept it out) as each is stored; a store failure raises.
    `names` and `loaded_by` as ingest_small_files'."""
    store.check_takes_records(con)
    store.ensure_ladder(con, config)
    for run in _runs(files):
        yield from _load_run(con, run, config, fmt, progress, names, loaded_by)


def _runs(files: list[Path]) -> Iterator[list[Path]]:
    """The files in order, as runs: consecutive small files together, a larger one alone."""
    run: list[Path] = []
    for f in files:
        # a compressed file by what it may expand to (real logs compress 10-50x)
        small = SMALL_FILE_BYTES // (50 if f.suffix.lower() == ".gz" else 1)
        if _size(f) <= small:
            run.append(f)
            continue
        if run:
            yield run
            run = []
        yield [f]
    if run:
        yield run


def _size(f: Path) -> int:
    try:
        return f.stat().st_size
    except OSError:
        return 0  # it is told why it cannot be read when it is loaded


def _load_run(
    con: duckdb.DuckDBPyConnection,
    run: list[Path],
    config: Config,
    fmt: str,
    progress: Callable[[Path, int, int], None] | None,
    names: Mapping[Path, str] | None = None,
    loaded_by: str | None = None,
) -> Iterator[tuple[Path, FileResult | IngestError]]:
    """Each file of a run and what became of it. A run of small files goes through
    ingest_small_files; when DuckDB runs out of memory on one of its passes, the files
    still to store are loaded one at a time, so only a file too big for it fails."""
    if len(run) > 1:
        done: set[Path] = set()
        try:
            bar = (lambda f, n: progress(f, n, n)) if progress else None
            passes = ingest_small_files(con, run, config, fmt, bar, names, loaded_by)
            for f, outcome in passes:
                done.add(f)
                yield f, outcome
            return
        except (duckdb.OutOfMemoryException, IngestError):
            run = [f for f in run if f not in done]
    for f in run:
        name = names.get(f) if names else None
        yield f, _load_one(con, f, config, fmt, progress, name, loaded_by)


def _load_one(
    con: duckdb.DuckDBPyConnection,
    f: Path,
    config: Config,
    fmt: str,
    progress: Callable[[Path, int, int], None] | None,
    name: str | None = None,
    loaded_by: str | None = None,
) -> FileResult | IngestError:
    total = _size(f)
    done = 0

    def step(n: int) -> None:
        nonlocal done
        done += n
        progress(f, min(done, total), total)

    try:
        step_or_none = step if progress else None
        return ingest_file(con, f, config, fmt, name, step_or_none, loaded_by)
    except IngestError as e:
        return e
    except duckdb.OutOfMemoryException:
        return IngestError(_out_of_memory(name or str(f)))
