"""A reference implementation of log format v1, written from docs/log-format.md and the
schema's field list, line by line in plain Python. It shares no code with ingest/: the
property test in test_oracle.py loads generated files through tierwatch and through this,
and the two must agree on every stored record, every reject (line and field) and every
file's accounting.

Only the built-in config is modelled: the ladder haiku < sonnet < opus, each tier's model
glob `*<tier>*`.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import json
import math
import re
from dataclasses import dataclass, field
from fractions import Fraction

LADDER = ("haiku", "sonnet", "opus")
INT64 = 2**63 - 1
INT32 = 2**31 - 1
EPOCH_END = 4102444800  # 2100-01-01: epoch seconds at or past it are most often milliseconds

# every attempt field in the schema's order (a reject names the first field at fault)
ATTEMPT = (
    "record", "task_id", "ts", "task_type", "tier", "input_tokens", "output_tokens",
    "attempt", "role", "planner_tier", "model", "cached_input_tokens", "cost_usd",
    "confidence", "confidence_source", "status", "escalation_reason", "downstream_failure",
    "plan_id", "fleet", "agent", "latency_ms",
)  # fmt: skip
DOWNSTREAM = ("record", "task_id", "ts", "detected_by")
REQUIRED = ("task_id", "ts", "task_type", "input_tokens", "output_tokens")  # tier may be mapped
ENUMS = {
    "role": ("planner", "executor", "reviewer"),
    "status": ("ok", "failed", "error"),
    "escalation_reason": (
        "low_confidence", "reviewer_reject", "error", "downstream_inconsistency", "other",
    ),
}  # fmt: skip
LABELS = {"high": 0.9, "medium": 0.6, "low": 0.3}
STRINGS = ("task_id", "task_type", "model", "confidence_source", "plan_id", "fleet", "agent")

_INT = re.compile(r"-?[0-9]+")
_NUM = re.compile(r"[-+]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][-+]?[0-9]+)?")
_TS = re.compile(
    r"[0-9]{4}-[0-9]{2}-[0-9]{2}([T ][0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?"
    r"(Z|[+-][0-9]{2}(:?[0-9]{2})?)?)?"
)


class Bad(Exception):
    """The value of one field breaks its rule."""


@dataclass
class FileOutcome:
    refused: bool = False
    read: int = 0
    loaded: int = 0
    duplicates: int = 0
    rejected: int = 0
    rejects: dict[int, str | None] = field(default_factory=dict)  # line -> field at fault


@dataclass
class Store:
    attempts: dict = field(default_factory=dict)  # (task_id, role, attempt) -> content
    downstream: dict = field(default_factory=dict)  # (task_id, ts, detected_by) -> content


# --- values ---------------------------------------------------------------------------


def _trim(text: str) -> str:
    return text.strip(" ")  # SQL's trim: spaces only


def _text(value, typed: bool) -> str:
    if typed and not isinstance(value, str):
        raise Bad
    return value


def string(value, typed: bool) -> str:
    text = _text(value, typed)
    if _trim(text) == "":
        raise Bad
    return text


def integer(value, typed: bool, lo: int, hi: int) -> int:
    if typed:
        if isinstance(value, bool) or not isinstance(value, int):
            raise Bad
        n = value
    else:
        if not _INT.fullmatch(value):
            raise Bad
        n = int(value)
    if n < lo or n > hi:
        raise Bad
    return n


def number(value, typed: bool, lo: float, hi: float | None = None, labels=None) -> float:
    if labels and isinstance(value, str) and _trim(value).lower() in labels:
        return labels[_trim(value).lower()]
    if typed:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise Bad
        try:
            x = float(value)
        except OverflowError:  # an integer past the largest double
            raise Bad from None
    else:
        if not _NUM.fullmatch(value):
            raise Bad
        x = float(value)  # 1e400 reads as inf
    if not math.isfinite(x) or x < lo or (hi is not None and x > hi):
        raise Bad
    return x


def enum(value, typed: bool, allowed) -> str:
    word = _trim(_text(value, typed)).lower()
    if word not in allowed:
        raise Bad
    return word


def boolean(value, typed: bool) -> bool:
    if typed:
        if not isinstance(value, bool):
            raise Bad
        return value
    word = value.lower()
    if word not in ("true", "false", "1", "0", "yes", "no"):
        raise Bad
    return word in ("true", "1", "yes")


def timestamp(value, typed: bool) -> dt.datetime:
    """UTC, naive. Epoch seconds are a JSON number or, in CSV, numeric text."""
    epoch = None
    if typed and isinstance(value, int | float) and not isinstance(value, bool):
        epoch = float(value)
    elif not typed and _NUM.fullmatch(value):
        epoch = float(value)
    if epoch is not None:
        if not (math.isfinite(epoch) and 0 <= epoch < EPOCH_END):
            raise Bad
        return dt.datetime(1970, 1, 1) + dt.timedelta(seconds=epoch)
    text = _text(value, typed).upper()
    if not _TS.fullmatch(text):
        raise Bad
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise Bad from None
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    if not (dt.datetime(1970, 1, 1) <= when < dt.datetime(2100, 1, 1)):
        raise Bad
    return when


def tier_of_model(model) -> str | None:
    text = model if isinstance(model, str) else json.dumps(model)
    for tier in LADDER:
        if fnmatch.fnmatchcase(text.lower(), f"*{tier}*"):
            return tier
    return None


def json_value(value):
    """A JSON value in a form where equal JSON values are equal: numbers by their exact
    value (1 is 1.0), true is not 1, key order makes no difference."""
    if isinstance(value, bool) or value is None:
        return ("literal", value)
    if isinstance(value, int | float):
        return ("number", Fraction(value) if math.isfinite(value) else repr(value))
    if isinstance(value, str):
        return ("string", value)
    if isinstance(value, list):
        return ("array", tuple(json_value(v) for v in value))
    return ("object", frozenset((k, json_value(v)) for k, v in value.items()))


# --- records --------------------------------------------------------------------------


def attempt(rec: dict, typed: bool):
    """(identity, content) of an attempt record, or Bad(first field at fault)."""
    out: dict = {}
    problems: list[str] = []

    def check(name, read, default=None):
        if rec.get(name) is None:
            out[name] = default
            return
        try:
            out[name] = read(rec[name])
        except Bad:
            problems.append(name)
            out[name] = None

    check("record", lambda v: enum(v, typed, ("attempt",)))
    for name in STRINGS:
        check(name, lambda v: string(v, typed))
    check("ts", lambda v: timestamp(v, typed))
    check("tier", lambda v: enum(v, typed, LADDER))
    check("planner_tier", lambda v: enum(v, typed, LADDER))
    for name in ("input_tokens", "output_tokens", "cached_input_tokens"):
        check(name, lambda v: integer(v, typed, 0, INT64))
    check("attempt", lambda v: integer(v, typed, 1, INT32), default=1)
    check("role", lambda v: enum(v, typed, ENUMS["role"]), default="executor")
    check("status", lambda v: enum(v, typed, ENUMS["status"]), default="ok")
    check("escalation_reason", lambda v: enum(v, typed, ENUMS["escalation_reason"]))
    check("cost_usd", lambda v: number(v, typed, 0))
    check("latency_ms", lambda v: number(v, typed, 0))
    check("confidence", lambda v: number(v, typed, 0, 1, LABELS))
    check("downstream_failure", lambda v: boolean(v, typed))
    for name in REQUIRED:
        if rec.get(name) is None:
            problems.append(name)
    if rec.get("tier") is None:
        mapped = None if rec.get("model") is None else tier_of_model(rec["model"])
        if mapped is None:
            problems.append("tier")
        out["tier"] = mapped
    cached, given = out.get("cached_input_tokens"), out.get("input_tokens")
    if cached is not None and given is not None and cached > given:
        problems.append("cached_input_tokens")
    if problems:
        raise Bad(min(problems, key=ATTEMPT.index))
    extra = {k: v for k, v in rec.items() if k not in ATTEMPT}
    content = tuple(out[name] for name in ATTEMPT if name != "record")
    content += (json_value(extra) if extra else None,)
    return (out["task_id"], out["role"], out["attempt"]), content


def downstream(rec: dict, typed: bool):
    problems: list[str] = []
    out: dict = {}
    for name, read in (
        ("task_id", lambda v: string(v, typed)),
        ("ts", lambda v: timestamp(v, typed)),
        ("detected_by", lambda v: string(v, typed)),
    ):
        if rec.get(name) is None:
            out[name] = None
            if name != "detected_by":
                problems.append(name)
            continue
        try:
            out[name] = read(rec[name])
        except Bad:
            problems.append(name)
    if problems:
        raise Bad(min(problems, key=DOWNSTREAM.index))
    extra = {k: v for k, v in rec.items() if k not in DOWNSTREAM}
    key = (out["task_id"], out["ts"], out["detected_by"])
    return key, (json_value(extra) if extra else None,)


def kind_of(rec: dict) -> str:
    value = rec.get("record")
    if value is None:
        return "attempt"
    if isinstance(value, str):
        return _trim(value).lower()
    return "?"


# --- files ----------------------------------------------------------------------------


def load(files: list[tuple[str, bytes]]) -> tuple[list[FileOutcome], Store]:
    """Load files ((format, bytes), format jsonl or csv) into an empty store in order."""
    store = Store()
    outcomes = []
    for form, data in files:
        records = jsonl_records(data) if form == "jsonl" else csv_records(data)
        if records is None:
            outcomes.append(FileOutcome(refused=True))
            continue
        outcomes.append(_accept(records, store))
    return outcomes, store


def _accept(records, store: Store) -> FileOutcome:
    """records: (line, record dict or None for a line that is no record, typed)."""
    out = FileOutcome()
    added_attempts, added_downstream = {}, {}
    for line, rec, typed in records:
        out.read += 1
        try:
            if rec is None:
                raise Bad(None)
            kind = kind_of(rec)
            if kind == "attempt":
                key, content = attempt(rec, typed)
                table, added = store.attempts, added_attempts
            elif kind == "downstream_failure":
                key, content = downstream(rec, typed)
                table, added = store.downstream, added_downstream
            else:
                raise Bad("record")
        except Bad as e:
            out.rejected += 1
            out.rejects[line] = e.args[0] if e.args else None
            continue
        # the first accepted record of an identity is the one every other is compared with
        first = table.get(key, added.get(key))
        if first is None:
            added[key] = content
            out.loaded += 1
        elif first == content:
            out.duplicates += 1
        else:
            out.rejected += 1
            out.rejects[line] = None
    store.attempts.update(added_attempts)
    store.downstream.update(added_downstream)
    return out


def _object(text: str):
    """The JSON object of a line, or None; duplicate top-level keys make it None."""
    pairs_seen = []

    def hook(pairs):
        pairs_seen.append(pairs)
        return dict(pairs)

    try:
        value = json.loads(text, object_pairs_hook=hook)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    top = pairs_seen[-1]
    if len({k for k, _ in top}) != len(top):
        return None
    return value


def jsonl_records(data: bytes):
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    records = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        try:
            text = raw.decode("utf-8").rstrip("\r")
        except UnicodeDecodeError:
            records.append((number, None, True))
            continue
        if not text.strip():
            continue
        if not records and (text.strip() == "[" or text.replace(" ", "").startswith("[{")):
            return None  # a JSON array: the whole file is refused
        records.append((number, _object(text), True))
    return records


def _csv_row(lines: list[str], start: int):
    """Parse one CSV row from lines[start:] as Python's csv does in strict mode:
    (cells, lines used) or (None, lines used) for an error."""
    cells, cell = [], []
    state = "start"
    i = start
    while i < len(lines):
        line = lines[i]
        i += 1
        for ch in line:
            if state == "start":
                if ch == '"':
                    state = "quoted"
                elif ch == ",":
                    cells.append("")
                elif ch == "\n":
                    cells.append("")
                    return cells, i - start
                else:
                    cell, state = [ch], "field"
            elif state == "field":
                if ch == ",":
                    cells.append("".join(cell))
                    cell, state = [], "start"
                elif ch == "\n":
                    cells.append("".join(cell))
                    return cells, i - start
                else:
                    cell.append(ch)
            elif state == "quoted":
                if ch == '"':
                    state = "quote_in_quoted"
                else:
                    cell.append(ch)
            elif state == "quote_in_quoted":
                if ch == '"':
                    cell.append('"')
                    state = "quoted"
                elif ch == ",":
                    cells.append("".join(cell))
                    cell, state = [], "start"
                elif ch == "\n":
                    cells.append("".join(cell))
                    return cells, i - start
                else:
                    return None, i - start  # strict: ',' expected after '"'
        if not line.endswith("\n"):  # the last line, without a line end
            if state == "quoted":
                return None, i - start  # unexpected end of data
            if state in ("field", "quote_in_quoted") or cells or cell:
                cells.append("".join(cell))
            return cells, i - start
    return (None, i - start) if state == "quoted" else (cells, i - start)


def csv_records(data: bytes):
    text = data.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    lines = re.findall(r"[^\n]*\n|[^\n]+$", text)  # the generated files hold no \r
    if not lines:
        return []
    header, used = _csv_row(lines, 0)
    if header is None:
        return None
    header = [h.strip() for h in header]
    if not any(header) or not all(header) or len(set(header)) != len(header):
        return None
    header_ok = all(name in header for name in REQUIRED)
    records = []
    i = used
    while i < len(lines):
        number = i + 1
        cells, used = _csv_row(lines, i)
        if used > 1 and (cells is None or len(cells) != len(header)):
            records.append((number, None, False))  # a quote left open on this line
            i += 1
            continue
        i += used
        if cells is None:
            records.append((number, None, False))
            continue
        if not cells or all(not c.strip() for c in cells):
            continue
        if len(cells) != len(header) or not header_ok:
            records.append((number, None, False))
            continue
        rec = {k: c.strip() for k, c in zip(header, cells, strict=True) if c.strip()}
        records.append((number, rec, False))
    return records
