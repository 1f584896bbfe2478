"""Other tools' telemetry as tierwatch attempts: OpenTelemetry traces, LiteLLM, Langfuse.

`detect(path)` tells a file's source from its content (not only its name); `read(...)`
turns the file into the same staged blocks a log-format-v1 file becomes, so each source
keeps the guarantees of v1: one set-based check, rejects with where and why, identities
that make a re-delivery a duplicate, one transaction per file. What is not a model call
is counted as skipped, by kind.

The mapping of each source (`mapping.toml`) is data: the attribute names that give each
fact, in order of preference, overridable under `[sources.NAME]` in tierwatch.toml.
"""

from __future__ import annotations

import copy
import csv
import itertools
import json
import re
import tomllib
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from functools import cache
from importlib import resources
from pathlib import Path

from tierwatch.ingest.inputs import Limits, open_input
from tierwatch.ingest.sources import otlp, records
from tierwatch.ingest.sources.calls import Call, Folded, attempts
from tierwatch.ingest.sources.spill import CallsByTask

SOURCES = ("otlp", "litellm", "langfuse")
SNIFF_BYTES = 1 << 20
_OTLP_KEY = re.compile(rb'"(resourceSpans|batches|resourceLogs)"\s*:')
_PROTO_SUFFIXES = {".pb", ".binpb", ".protobuf", ".otlp"}

# stored({(task id, role): (start, call id) of its first call}, call ids) ->
# {(task id, role): (last attempt, its status)}: the attempts the store holds of those tasks
# from calls other than these, begun before that first call (load.stored_attempts)
StoredAttempts = Callable[[dict[tuple[str, str], tuple[float | None, str]], set[str]], dict]
# judged([(trace id, observation id or None)]) -> {i: records.Judged}: the stored call each
# Langfuse score (by its place i in the list) judges, for the scores whose calls a file
# does not hold (load.judged_stored_calls)
JudgedCalls = records.JudgedCalls


class SourceError(ValueError):
    """A file of a source that cannot be read at all; the message names file and fix."""


@cache
def default_mapping() -> dict:
    text = (resources.files("tierwatch.ingest.sources") / "mapping.toml").read_text(
        encoding="utf-8"
    )
    return tomllib.loads(text)


def mapping(overrides: dict | None = None) -> dict:
    """The mapping of every source, with a config's `[sources.NAME]` lists put first. One
    mapping per distinct overrides, shared (a folder of small files asks for it per file):
    read it, never change it."""
    return _merged(json.dumps(overrides or {}, sort_keys=True))


@cache
def _merged(overrides: str) -> dict:
    merged = copy.deepcopy(default_mapping())
    for source, entries in json.loads(overrides).items():
        merged[source].update(entries)
    return merged


def check_overrides(raw, where: str) -> dict:
    """A config's `[sources]` table, validated; ValueError names the key at fault."""
    if not isinstance(raw, dict):
        raise ValueError(f"{where}: sources must be a table, e.g. [sources.otlp]")
    known = default_mapping()
    out: dict = {}
    for source, entries in raw.items():
        if source not in known:
            raise ValueError(
                f"{where}: unknown source [sources.{source}]; known: {', '.join(known)}"
            )
        if not isinstance(entries, dict):
            raise ValueError(f"{where}: [sources.{source}] must be a table of name lists")
        for key, names in entries.items():
            if key not in known[source]:
                raise ValueError(
                    f"{where}: [sources.{source}] has unknown key {key!r}; known keys are "
                    f"{', '.join(sorted(known[source]))}"
                )
            if isinstance(names, str):
                names = [names]
            if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
                raise ValueError(
                    f"{where}: [sources.{source}] {key} must be a list of attribute names"
                )
            out.setdefault(source, {})[key] = names
    return out


def _classify(record) -> str | None:
    if otlp.is_otlp_document(record):
        return "otlp"
    if isinstance(record, dict) and isinstance(record.get("data"), list) and record["data"]:
        record = record["data"][0]
    if records.is_litellm(record):
        return "litellm"
    parts = records.trace_parts(record)  # a Langfuse trace with its observations
    if parts:
        record = parts[0][1]
    if records.is_langfuse(record) or records.is_langfuse_score(record):
        return "langfuse"
    return None


def detect(path: Path) -> str | None:
    """The source a file holds, by its content: otlp, litellm, langfuse, or None (a v1 log
    or something else, left to the v1 readers)."""
    try:
        with open_input(path) as f:
            head = f.read(SNIFF_BYTES)
    except (OSError, EOFError, zlib.error):
        return None
    name = path.name.lower().removesuffix(".gz")
    if Path(name).suffix in _PROTO_SUFFIXES:
        return "otlp"
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError as e:
        if e.start < len(head) - 4:  # not text at all: an OTLP protobuf request?
            named_text = Path(name).suffix in _TEXT_SUFFIXES  # not what its name says
            return "otlp" if not named_text and _looks_like_protobuf(head) else None
        text = head[: e.start].decode("utf-8-sig")
    stripped = text.lstrip()
    if stripped.startswith("{") and _OTLP_KEY.search(head[:65536]):
        return "otlp"
    if stripped.startswith("["):
        try:
            first, _ = json.JSONDecoder().raw_decode(stripped[1:].lstrip())
        except json.JSONDecodeError:
            return None
        return _classify(first)
    if stripped.startswith("{"):
        line = stripped.split("\n", 1)[0]
        try:
            return _classify(json.loads(line))
        except json.JSONDecodeError:
            pass
        try:
            return _classify(json.loads(stripped))
        except json.JSONDecodeError:
            pass
        # JSONL whose first line is broken: the first whole line after it that is JSON
        for later in stripped.split("\n")[1:-1]:  # the last may be cut by the sniff
            try:
                record = json.loads(later)
            except json.JSONDecodeError:
                continue
            return _classify(record)
        # a page of an export on one line, longer than the sniff ({"data": [...], "meta": ..}
        # as Langfuse's and LiteLLM's APIs page them): classify its first element
        page = _PAGE_DATA.search(stripped)
        if page:
            try:
                first, _ = json.JSONDecoder().raw_decode(stripped[page.end() :].lstrip())
            except json.JSONDecodeError:
                return None
            return _classify(first)
        return None
    header = {h.strip().strip('"') for h in stripped.split("\n", 1)[0].split(",")}
    if {"request_id", "spend", "startTime"} <= header:
        return "litellm"
    if {"traceId", "type", "startTime"} <= header:
        return "langfuse"
    return None


_TEXT_SUFFIXES = {".jsonl", ".ndjson", ".json", ".csv"}
_PAGE_DATA = re.compile(r'^\{\s*(?:"[^"]*"\s*:\s*[^{\[]*?,\s*)?"data"\s*:\s*\[')


def _looks_like_protobuf(head: bytes) -> bool:
    """ExportTraceServiceRequest starts with field 1 (resource_spans), length-delimited,
    and a ResourceSpans with field 1 (resource) or 2 (scope_spans)."""
    if head[:1] != b"\x0a":
        return False
    i, length, shift = 1, 0, 0
    while i < len(head) and i < 11:  # the varint length of the first ResourceSpans
        byte = head[i]
        length |= (byte & 0x7F) << shift
        shift += 7
        i += 1
        if byte < 0x80:
            break
    else:
        return False
    return length > 0 and i < len(head) and head[i : i + 1] in (b"\x0a", b"\x12")


def read(
    source: str,
    path: Path,
    label: str,
    tier_of: Callable[[str], str | None],
    overrides: dict | None,
    skipped: Counter,
    limits: Limits | None = None,
    stored: StoredAttempts | None = None,
    judged: JudgedCalls | None = None,
) -> Iterator[tuple[int, str, dict | None, str | None, str]]:
    """(record number, raw text, v1 record or None, parse problem, locator) per record of a
    source file; what is not a model call is added to `skipped` by kind. InputLimit when the
    file holds more than `limits` allow.

    `stored`: the attempts the store already holds of the file's tasks, so that a task
    whose calls are spread over files (a logger writing one file per call, a rotated log)
    goes on being numbered instead of starting at attempt 1 again in every file. LiteLLM
    and Langfuse tasks go on whatever gave their key; an OTLP task only when the fleet
    named it (`tierwatch.task.id`), as in the receiver: a trace is a task of its own.
    `judged`: the stored calls that Langfuse scores of calls the file does not hold judge
    (a scores export loaded after its observations)."""
    m = mapping(overrides)
    if source == "otlp":
        yield from _read_otlp(path, label, tier_of, overrides, skipped, limits or Limits(), stored)
        return
    limits = limits or Limits()
    try:
        with open_input(path, limits=limits) as f:
            calls, bad, counts, failures = _records(
                source, f, label, m[source], tier_of, limits, judged
            )
    except (OSError, EOFError, zlib.error) as e:
        raise SourceError(f"{label}: cannot be read ({e})") from None
    groups = calls.groups() if isinstance(calls, CallsByTask) else [calls]
    folded = _folded(groups, tier_of, stored, skipped)
    yield from _numbered(itertools.chain(folded, failures), bad, counts, skipped)


def _folded(groups: Iterable[list[Call]], tier_of, stored: StoredAttempts | None, counts: Counter):
    """The attempts of a file's calls, given as groups of whole tasks (a LiteLLM file's
    spilled calls come back so; otherwise the file's calls are one group), each call once.
    The store is asked for the attempts it holds of a group's tasks, made of calls other
    than the group's."""
    for group in groups:
        group = _once(group, counts)
        yield from attempts(group, tier_of, _after(group, stored, named_only=False))


def _once(calls: list[Call], counts: Counter) -> list[Call]:
    """`calls` with each call of a task once: a LiteLLM request or a Langfuse observation
    logged twice in one file (an API page fetched twice, a log shipped again) is one call,
    not two to fold into one attempt with its tokens counted twice. The one kept is the
    first in call order (the first read, when they began at the same time); the others
    are counted as skipped."""
    first: dict[tuple, int] = {}
    for i, c in enumerate(calls):
        j = first.setdefault((c.task, c.call_id), i)
        if j != i and c.order() < calls[j].order():
            first[(c.task, c.call_id)] = i
    if len(first) == len(calls):
        return calls
    counts["model calls delivered twice in this file"] += len(calls) - len(first)
    kept = set(first.values())
    return [c for i, c in enumerate(calls) if i in kept]


def read_spans(
    items: list,
    tier_of: Callable[[str], str | None],
    overrides: dict | None,
    skipped: Counter,
    stored: StoredAttempts | None = None,
) -> Iterator[tuple[int, str, dict | None, str | None, str]]:
    """What `read` yields, for spans already decoded (the receiver's, or a whole OTLP
    file's): one code path from spans to attempts for files and for `tierwatch collect`.
    `stored` as in `read`: tasks the fleet named go on being numbered after the attempts
    the store holds of them from other spans."""
    traces = otlp.calls_of_spans(items, mapping(overrides)["otlp"])
    folded = list(attempts(traces.calls, tier_of, _after(traces.calls, stored, named_only=True)))
    yield from _numbered(folded, traces.bad_lines, traces.skipped, skipped)


def _after(calls: list[Call], stored: StoredAttempts | None, named_only: bool, known=()):
    """The store's last attempt before each task of `calls` that numbers its attempts by
    order (not given by the fleet), leaving out tasks in `known`; None when none."""
    if stored is None:
        return None
    first: dict[tuple[str, str], tuple[float | None, str]] = {}
    for c in sorted(calls, key=Call.order):
        if c.attempt is None and (c.task_id is not None or not named_only):
            first.setdefault(c.task, (c.start, c.call_id))
    for key in known:
        first.pop(key, None)
    return stored(first, {c.call_id for c in calls}) if first else None


def _numbered(folded: Iterable[Folded], bad: list, counts: Counter, skipped: Counter, start=0):
    skipped.update(counts)
    n = start
    for b in bad:
        n += 1
        yield n, b.raw[:10_000], None, b.reason, f"line {b.line}"
    for f in folded:
        n += 1
        text = json.dumps(f.record, ensure_ascii=False, default=str)
        yield n, text[:10_000], f.record, None, f.locator
        skipped_merged = f.calls - 1
        if skipped_merged:
            skipped["model calls folded into their run's attempt"] += skipped_merged


OTLP_BLOCK_SPANS = 50_000  # spans read before the traces whose root came are folded


def _read_otlp(
    path: Path, label: str, tier_of, overrides, skipped: Counter, limits: Limits, stored=None
):
    """An OTLP file's records. One request per line (a Collector's file exporter) is read
    in blocks, so that memory does not grow with the file: a trace is folded into
    attempts one block after the block its root span came in (spans end children first,
    so a trace's spans are together, or close); a trace whose root never comes is folded
    at the end. A pretty-printed single document, or protobuf, is read whole."""
    m = mapping(overrides)["otlp"]
    try:
        f = open_input(path, limits=limits)
        with f:
            first, blank = b"", 0
            while not first.strip():
                first = _line(f, limits, label, blank + 1)
                if not first:
                    break
                blank += 0 if first.strip() else 1
            per_line = _is_request_line(first)
            if not per_line:
                data = first + f.read()
                items = _otlp_items(b"\n" * blank + data, label)
                yield from read_spans(items, tier_of, overrides, skipped, stored)
                return
            folding = _BlockFolder(m, tier_of, skipped, stored)
            for number, raw in enumerate(_lines(first, f, limits, label, blank), start=blank + 1):
                folding.add(_request_items(number, raw))
                if folding.spans_in_block >= OTLP_BLOCK_SPANS:
                    yield from folding.fold(final=False)
            yield from folding.fold(final=True)
    except (OSError, EOFError, zlib.error) as e:
        raise SourceError(f"{label}: cannot be read ({e})") from None


def _lines(first: bytes, f, limits: Limits, label: str, before: int) -> Iterator[bytes]:
    yield first
    number = before + 1
    while line := _line(f, limits, label, number + 1):
        number += 1
        yield line


def _line(f, limits: Limits, label: str, number: int) -> bytes:
    """The next line of `f`, at most the record limit long (InputLimit past it)."""
    line = f.readline(limits.record_bytes + 1)
    if len(line) > limits.record_bytes:
        raise limits.record_too_long(label, f"line {number}")
    return line


def _is_request_line(line: bytes) -> bool:
    try:
        doc = json.loads(line.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return False
    return otlp.is_otlp_document(doc)


def _request_items(number: int, raw: bytes) -> list:
    if not raw.strip():
        return []
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        return [otlp.BadLine(number, raw.decode("utf-8", "replace"), f"not valid UTF-8 ({e})")]
    return list(otlp.read_documents_line(number, text.rstrip("\r\n")))


class _BlockFolder:
    """Spans of a request-per-line file, held by trace until their trace can be folded."""

    def __init__(self, m: dict, tier_of, skipped: Counter, stored: StoredAttempts | None):
        self.m, self.tier_of, self.skipped, self.stored = m, tier_of, skipped, stored
        self.pending: dict[str, list] = {}
        self.rooted: dict[str, int] = {}  # trace id -> the block its root came in
        self.loose: list = []  # bad lines, log records of no trace
        self.seen: set[int] = set()  # hashes of (trace id, span id) read so far
        self.folded: set[str] = set()
        self.named: dict[tuple[str, str], tuple[int, str]] = {}
        self.block = 0
        self.spans_in_block = 0
        self.numbered = 0

    def add(self, items: list) -> None:
        for item in items:
            if isinstance(item, otlp.Span):
                self.spans_in_block += 1
                key = hash((item.trace_id, item.span_id))
                if key in self.seen:
                    self.skipped["spans delivered twice in this file"] += 1
                    continue
                self.seen.add(key)
                if item.trace_id in self.folded:
                    self.loose.append(
                        otlp.BadLine(
                            item.line,
                            otlp.span_to_json(item)[:10_000],
                            f"span {item.span_id} of trace {item.trace_id} comes more than "
                            f"{OTLP_BLOCK_SPANS} spans after its trace's root span, which "
                            f"was folded into attempts already; keep a trace's spans together",
                        )
                    )
                    continue
                self.pending.setdefault(item.trace_id, []).append(item)
                if item.parent_id is None:
                    self.rooted.setdefault(item.trace_id, self.block)
            elif isinstance(item, otlp.LogRecord) and item.trace_id in self.pending:
                self.pending[item.trace_id].append(item)
            else:
                self.loose.append(item)

    def fold(self, final: bool):
        ready = [t for t in self.pending if final or self.rooted.get(t, self.block) < self.block]
        items = [x for t in ready for x in self.pending.pop(t)] + self.loose
        self.loose = []
        for t in ready:
            self.rooted.pop(t, None)
            self.folded.add(t)
        self.block += 1
        self.spans_in_block = 0
        traces = otlp.calls_of_spans(items, self.m)
        # a named task met first in this block goes on from the store's attempts of it
        self.named.update(_after(traces.calls, self.stored, True, self.named) or {})
        folded = list(attempts(traces.calls, self.tier_of, self.named))
        for f in folded:
            if f.named:
                key = (str(f.record["task_id"]), str(f.record["role"]))
                attempt = f.record.get("attempt")
                if isinstance(attempt, int) and attempt >= self.named.get(key, (0, ""))[0]:
                    self.named[key] = (attempt, str(f.record.get("status")))
        start = self.numbered
        self.numbered += len(folded) + len(traces.bad_lines)
        yield from _numbered(folded, traces.bad_lines, traces.skipped, self.skipped, start)


def _otlp_items(data: bytes, label: str) -> list:
    """The spans, log records and bad lines of an OTLP file's bytes (JSON or protobuf)."""
    try:
        if _is_text(data):
            return list(otlp.read_documents(data, label))
        return list(otlp.spans_of_protobuf(data))
    except otlp.OtlpError as e:
        raise SourceError(str(e) if _is_text(data) else f"{label}: {e}") from None


def _is_text(data: bytes) -> bool:
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n")
    return head[:1] in (b"{", b"[") or not head


def _records(source: str, f, label: str, m: dict, tier_of, limits: Limits, judged=None):
    """The calls of a LiteLLM or Langfuse file read from `f`, its bad lines, what it
    skipped, and the downstream failures its Langfuse scores found (records.langfuse_scores).
    A LiteLLM record becomes its call as it is read, so memory holds the calls, not the
    file, and past spill.HELD_CALLS not even those (spill.CallsByTask); Langfuse needs
    every observation at hand (a generation's agent is found up its parent chain, a
    score's call by its observation or trace). A Langfuse trace with its
    observations and scores (the API's /traces/{id}) is read as its parts."""
    counts: Counter = Counter()
    bad: list = []
    if source == "litellm":
        calls = CallsByTask()
        for where, rec in _record_items(f, label, limits, bad):
            if records.is_litellm(rec):
                calls.add(records.litellm_call(rec, where, m, tier_of))
            else:
                bad.append(otlp.BadLine(_line_of(where), json.dumps(rec)[:10_000], _not(source)))
        return calls, bad, counts, []
    good, scores = [], []
    for where, rec in _record_items(f, label, limits, bad):
        for at, part in records.trace_parts(rec) or [("", rec)]:
            at = f"{where}, {at}" if at else where
            if records.is_langfuse(part):
                good.append((at, part))
            elif records.is_langfuse_score(part):
                scores.append((at, part))
            else:
                bad.append(otlp.BadLine(_line_of(at), json.dumps(part)[:10_000], _not(source)))
    calls, counts = records.langfuse_calls(good, m)
    found, refused, scored = records.langfuse_scores(scores, calls, good, m, judged)
    counts.update(scored)
    for at, raw, reason in refused:
        bad.append(otlp.BadLine(_line_of(at), raw, reason))
    return calls, bad, counts, found


def _not(source: str) -> str:
    what = {
        "litellm": "a LiteLLM record (StandardLoggingPayload or LiteLLM_SpendLogs row)",
        "langfuse": "a Langfuse observation or score (no traceId, or no type or value)",
    }[source]
    return f"not {what}, though the file's first record is one"


def _line_of(where: str) -> int:
    m = re.search(r"\d+", where)
    return int(m.group()) if m else 0


def _record_items(f, label: str, limits: Limits, bad: list) -> Iterator[tuple[str, dict]]:
    """(where, record) of a JSONL, JSON array, API page or CSV file read from `f`, one at a
    time; its bad lines are added to `bad`. JSONL (a record or an API page a line) and CSV
    are read a line at a time, so memory does not grow with the file; a JSON document (an
    array, one page, pretty-printed) is read whole."""
    head: list[bytes] = []  # the lines read to tell the form, blank ones first
    line = f.readline(limits.record_bytes + 1).removeprefix(b"\xef\xbb\xbf")
    while line and not line.strip():
        head.append(line)
        line = f.readline(limits.record_bytes + 1)
    if not line:
        return
    head.append(line)
    start = line.lstrip()[:1]
    if start not in (b"[", b"{"):
        if len(line) > limits.record_bytes:
            raise limits.record_too_long(label, f"line {len(head)}")
        yield from _csv_items(_text_lines(f, limits, label, head))
        return
    if len(line) > limits.record_bytes:  # one document on one line (json.dump writes so)
        yield from _whole_items(_decoded(b"".join(head) + f.read()), label, bad)
        return
    first = _decoded(line)
    try:
        doc = json.loads(first) if start == b"{" else None
    except json.JSONDecodeError:
        doc = None
    if doc is None:  # an array, or a document over many lines: read whole
        yield from _whole_items(_decoded(b"".join(head) + f.read()), label, bad)
        return
    number = len(head)
    while (line := _line(f, limits, label, number + 1)) and not line.strip():
        number += 1
    if not line:  # a single document on one line: its records, as a document's
        yield from _document_items(doc)
        return
    yield from _jsonl_items(len(head), first, bad)
    for n, raw in enumerate(_lines(line, f, limits, label, number), start=number + 1):
        yield from _jsonl_items(n, _decoded(raw), bad)


def _decoded(raw: bytes) -> str:
    return raw.decode("utf-8", errors="replace")


def _document_items(doc) -> Iterator[tuple[str, dict]]:
    rows = doc if isinstance(doc, list) else doc.get("data", [doc])
    for i, r in enumerate(rows, start=1):
        yield f"record {i}", r


def _jsonl_items(number: int, line: str, bad: list) -> Iterator[tuple[str, dict]]:
    if not line.strip():
        return
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as e:
        bad.append(otlp.BadLine(number, line.rstrip("\r\n")[:10_000], f"not valid JSON ({e.msg})"))
        return
    if isinstance(doc, dict) and isinstance(doc.get("data"), list):
        for i, r in enumerate(doc["data"], start=1):
            yield f"line {number} record {i}", r
    else:
        yield f"line {number}", doc


def _whole_items(text: str, label: str, bad: list) -> Iterator[tuple[str, dict]]:
    """A file whose first line is not a JSON value of its own: one document, or JSONL whose
    first line is broken."""
    stripped = text.lstrip()
    if stripped.startswith("[") or "\n{" not in stripped:
        try:
            doc = json.loads(stripped)
        except json.JSONDecodeError as e:
            raise SourceError(f"{label}: not valid JSON ({e})") from None
        yield from _document_items(doc)
        return
    for number, line in enumerate(text.splitlines(), start=1):
        yield from _jsonl_items(number, line, bad)


def _text_lines(f, limits: Limits, label: str, head: list[bytes]) -> Iterator[str]:
    """The file's lines as text, the ones already read (`head`) first; InputLimit past the
    record limit, as for every other line-based file."""
    for raw in itertools.chain(head[:-1], _lines(head[-1], f, limits, label, len(head) - 1)):
        yield _decoded(raw)


def _csv_items(lines: Iterator[str]) -> Iterator[tuple[str, dict]]:
    reader = csv.DictReader(lines)
    for row in reader:
        yield f"line {reader.line_num}", {k: v for k, v in row.items() if v != ""}
