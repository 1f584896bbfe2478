"""OpenTelemetry traces: OTLP/JSON and OTLP protobuf documents, read into model calls.

What is read (docs/sources.md has the whole mapping):
- OTLP/JSON as the specification writes it (`resourceSpans` / `scopeSpans`) and the variants
  real exporters produce: ids in hex or base64, `intValue` as string or number, `kind` and
  `status.code` as numbers or enum names, Tempo's `batches` / `instrumentationLibrarySpans`,
  `resourceLogs` in the same document, one pretty-printed document or one request per line
  (the Collector's `file` exporter);
- OTLP protobuf (`ExportTraceServiceRequest`), decoded with the official
  `opentelemetry-proto` classes.

A model call is a span that carries usage (or is a model-call operation), and is the
leaf-most of its kind: wrappers that repeat a call's usage (ADK's `call_llm` over
`generate_content`, OpenLLMetry's `openai.chat` inside them) are skipped, so usage counts
once. Every other span is skipped and counted by kind, never rejected.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import lru_cache

from tierwatch.ingest.sources.calls import Call
from tierwatch.ingest.sources.records import boolean as _bool
from tierwatch.ingest.sources.records import integer as _token
from tierwatch.ingest.sources.records import number as _number

_HEX = re.compile(r"[0-9a-fA-F]+")


class OtlpError(ValueError):
    """A document that is not an OTLP trace export at all."""


@dataclass(slots=True)
class Span:
    trace_id: str
    span_id: str
    parent_id: str | None
    name: str
    kind: str
    start: float | None  # epoch seconds
    end: float | None
    status: str  # unset / ok / error
    status_message: str | None
    attrs: dict
    resource: dict
    scope: str | None
    line: int  # the file's line the document (request) starts on
    events: list = field(default_factory=list)  # (name, attrs)


@dataclass(slots=True)
class BadLine:
    """A line of a request-per-line file that is not an OTLP request: rejected, not fatal."""

    line: int
    raw: str
    reason: str


@dataclass(slots=True)
class LogRecord:
    trace_id: str | None
    span_id: str | None
    event_name: str | None
    attrs: dict


# --- ids, values, enums ------------------------------------------------------------------


def norm_id(value, size: int) -> str | None:
    """An id as lower-case hex: OTLP/JSON writes hex, protobuf's JSON mapping base64."""
    if value is None or value == "":
        return None
    if isinstance(value, bytes):
        return value.hex() if any(value) else None
    text = str(value)
    if len(text) == size * 2 and _HEX.fullmatch(text):
        return text.lower() if set(text) != {"0"} else None
    try:
        raw = base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        return text
    if len(raw) == size:
        return raw.hex()
    return text


def any_value(v):
    """A Python value of an OTLP/JSON AnyValue."""
    if not isinstance(v, dict) or not v:
        return None
    if "stringValue" in v:
        return v["stringValue"]
    if "intValue" in v:
        i = v["intValue"]
        try:
            return int(i)
        except (TypeError, ValueError):
            return i
    if "doubleValue" in v:
        d = v["doubleValue"]
        try:
            return float(d)
        except (TypeError, ValueError):
            return d
    if "boolValue" in v:
        return v["boolValue"]
    if "arrayValue" in v:
        return [any_value(x) for x in (v["arrayValue"] or {}).get("values", []) or []]
    if "kvlistValue" in v:
        return attributes((v["kvlistValue"] or {}).get("values"))
    if "bytesValue" in v:
        return v["bytesValue"]
    return None


def attributes(items) -> dict:
    out: dict = {}
    for a in items or []:
        if isinstance(a, dict) and "key" in a:
            out[a["key"]] = any_value(a.get("value"))
    return out


_KINDS = {0: "unspecified", 1: "internal", 2: "server", 3: "client", 4: "producer", 5: "consumer"}
_STATUS = {0: "unset", 1: "ok", 2: "error"}


def _enum(value, names: dict, prefix: str) -> str:
    if isinstance(value, int):
        return names.get(value, "unspecified")
    if isinstance(value, str):
        text = value.upper()
        if text.isdigit():
            return names.get(int(text), "unspecified")
        return text.removeprefix(prefix).lower()
    return names[0]


def _seconds(nanos) -> float | None:
    try:
        n = int(nanos)
    except (TypeError, ValueError):
        return None
    return n / 1e9 if n > 0 else None


# --- OTLP/JSON ---------------------------------------------------------------------------


def is_otlp_document(doc) -> bool:
    return isinstance(doc, dict) and any(
        k in doc for k in ("resourceSpans", "batches", "resourceLogs")
    )


def spans_of_json(doc: dict, line: int) -> Iterator[Span | LogRecord]:
    """The spans and log records of one OTLP/JSON export request."""
    for rs in doc.get("resourceSpans") or doc.get("batches") or []:
        if not isinstance(rs, dict):
            continue
        resource = attributes((rs.get("resource") or {}).get("attributes"))
        for ss in rs.get("scopeSpans") or rs.get("instrumentationLibrarySpans") or []:
            scope = (ss.get("scope") or ss.get("instrumentationLibrary") or {}).get("name")
            for s in ss.get("spans") or []:
                status = s.get("status") or {}
                yield Span(
                    trace_id=norm_id(s.get("traceId"), 16) or "",
                    span_id=norm_id(s.get("spanId"), 8) or "",
                    parent_id=norm_id(s.get("parentSpanId"), 8),
                    name=str(s.get("name") or ""),
                    kind=_enum(s.get("kind", 0), _KINDS, "SPAN_KIND_"),
                    start=_seconds(s.get("startTimeUnixNano")),
                    end=_seconds(s.get("endTimeUnixNano")),
                    status=_enum(status.get("code", 0), _STATUS, "STATUS_CODE_"),
                    status_message=status.get("message") or None,
                    attrs=attributes(s.get("attributes")),
                    resource=resource,
                    scope=scope,
                    line=line,
                    events=[
                        (e.get("name"), attributes(e.get("attributes")))
                        for e in s.get("events") or []
                    ],
                )
    for rl in doc.get("resourceLogs") or []:
        for sl in rl.get("scopeLogs") or rl.get("instrumentationLibraryLogs") or []:
            for r in sl.get("logRecords") or []:
                yield LogRecord(
                    trace_id=norm_id(r.get("traceId"), 16),
                    span_id=norm_id(r.get("spanId"), 8),
                    event_name=r.get("eventName") or None,
                    attrs=attributes(r.get("attributes")),
                )


# --- spans held by the receiver ----------------------------------------------------------

_SPAN_FIELDS = tuple(Span.__dataclass_fields__)


def span_to_json(s: Span) -> str:
    """A span as JSON text, as the receiver holds it until its trace is derived."""
    return json.dumps({f: getattr(s, f) for f in _SPAN_FIELDS}, default=str)


def span_from_json(text: str) -> Span:
    return span_from_dict(json.loads(text))


def span_from_dict(d: dict) -> Span:
    """A span of `span_to_json`'s text, once parsed."""
    return Span(**{**d, "events": [tuple(e) for e in d.get("events") or []]})


def has_valid_ids(s: Span) -> bool:
    """Trace id of 16 bytes and span id of 8, not all zero, as OTLP requires."""
    return all(
        len(v) == n and _HEX.fullmatch(v) is not None and v.strip("0") != ""
        for v, n in ((s.trace_id, 32), (s.span_id, 16))
    )


# --- OTLP protobuf -----------------------------------------------------------------------


def _pb_value(v):
    which = v.WhichOneof("value")
    if which is None:
        return None
    if which == "array_value":
        return [_pb_value(x) for x in v.array_value.values]
    if which == "kvlist_value":
        return {kv.key: _pb_value(kv.value) for kv in v.kvlist_value.values}
    if which == "bytes_value":
        return base64.b64encode(v.bytes_value).decode()
    return getattr(v, which)


def _pb_attrs(items) -> dict:
    return {kv.key: _pb_value(kv.value) for kv in items}


def spans_of_protobuf(data: bytes, line: int = 1) -> Iterator[Span]:
    """The spans of one serialized ExportTraceServiceRequest; OtlpError when it is not one."""
    from google.protobuf.message import DecodeError
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceRequest,
    )

    request = ExportTraceServiceRequest()
    try:
        request.ParseFromString(data)
    except DecodeError as e:
        raise OtlpError(f"not an OTLP protobuf ExportTraceServiceRequest ({e})") from None
    for rs in request.resource_spans:
        resource = _pb_attrs(rs.resource.attributes)
        for ss in rs.scope_spans:
            for s in ss.spans:
                yield Span(
                    trace_id=s.trace_id.hex(),
                    span_id=s.span_id.hex(),
                    parent_id=s.parent_span_id.hex() or None,
                    name=s.name,
                    kind=_KINDS.get(s.kind, "unspecified"),
                    start=s.start_time_unix_nano / 1e9 or None,
                    end=s.end_time_unix_nano / 1e9 or None,
                    status=_STATUS.get(s.status.code, "unset"),
                    status_message=s.status.message or None,
                    attrs=_pb_attrs(s.attributes),
                    resource=resource,
                    scope=ss.scope.name or None,
                    line=line,
                    events=[(e.name, _pb_attrs(e.attributes)) for e in s.events],
                )


# --- spans to model calls ----------------------------------------------------------------


def _pick(attrs: dict, names: list[str]):
    for n in names:
        v = attrs.get(n)
        if v is None and "#" in n:
            v = _inside(attrs, n)
        if v is not None and v != "":
            return v
    return None


def _inside(attrs: dict, name: str):
    """`attribute#pointer`: a value inside an attribute that holds JSON text (or a kvlist),
    the pointer as RFC 6901 writes it (`usage_details#/input`). An empty pointer is the
    whole decoded value (`metadata.task_id#` reads `"t1"` as t1), and text that is not
    JSON is taken as it is (older SDKs wrote metadata raw)."""
    key, _, pointer = name.partition("#")
    raw = attrs.get(key)
    if raw is None:
        return None
    value = _decoded(raw) if isinstance(raw, str) else raw
    if value is _NOT_JSON:
        return raw if pointer == "" else None
    for part in pointer.split("/")[1:]:
        part = part.replace("~1", "/").replace("~0", "~")
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


_NOT_JSON = object()


@lru_cache(maxsize=4096)
def _decoded(text: str):
    try:
        return json.loads(text)
    except ValueError:
        return _NOT_JSON


@dataclass
class Traces:
    """What one file's spans came to: model calls and what was skipped, by kind."""

    calls: list[Call]
    skipped: Counter
    read: int
    bad_lines: list[BadLine] = field(default_factory=list)


def calls_of_spans(items: list[Span | LogRecord | BadLine], mapping: dict) -> Traces:
    """Model calls of the spans (and log records) of one file, with the skipped counted."""
    m = mapping
    spans = [s for s in items if isinstance(s, Span)]
    bad = [b for b in items if isinstance(b, BadLine)]
    logs = [r for r in items if isinstance(r, LogRecord)]
    skipped: Counter = Counter()
    by_id: dict[tuple[str, str], Span] = {}
    for s in spans:
        key = (s.trace_id, s.span_id)
        if key in by_id:
            skipped["spans delivered twice in this file"] += 1
            continue
        by_id[key] = s
    unique = list(by_id.values())

    lower = [op.lower() for op in m["model_call_operations"]]
    agent_ops = {op.lower() for op in m["agent_operations"]}
    tool_ops = {op.lower() for op in m["tool_operations"]}
    plan_ops = {op.lower() for op in m["plan_operations"]}
    error_levels = {x.lower() for x in m["error_levels"]}

    def op(s: Span) -> str:
        v = _pick(s.attrs, m["operation"])
        if isinstance(v, str) and v:
            return v.lower()
        return s.name.split(" ", 1)[0].lower()

    def has_usage(s: Span) -> bool:
        return any(_pick(s.attrs, m[k]) is not None for k in ("input_tokens", "output_tokens"))

    def is_candidate(s: Span) -> bool:
        return has_usage(s) or (op(s) in lower and _pick(s.attrs, m["model"]) is not None)

    def parent(s: Span) -> Span | None:
        return by_id.get((s.trace_id, s.parent_id)) if s.parent_id else None

    def chain(s: Span) -> Iterator[Span]:
        seen = set()
        cur: Span | None = s
        while cur is not None and cur.span_id not in seen:
            seen.add(cur.span_id)
            yield cur
            cur = parent(cur)

    candidates = {(s.trace_id, s.span_id) for s in unique if is_candidate(s)}
    wrappers = set()
    for key in candidates:
        for anc in list(chain(by_id[key]))[1:]:
            k = (anc.trace_id, anc.span_id)
            if k in candidates:
                wrappers.add(k)

    # reviewer verdicts: evaluation events on spans, and as log records naming a span
    eval_names = set(m["evaluation_event"])
    fail_labels = {x.lower() for x in m["evaluation_fail_labels"]}
    verdicts: dict[tuple[str, str], bool] = {}

    def verdict(attrs: dict) -> bool | None:
        label = _pick(attrs, m["evaluation_label"])
        return None if label is None else str(label).strip().lower() in fail_labels

    for s in unique:
        for name, attrs in s.events:
            if name in eval_names and (v := verdict(attrs)) is not None:
                verdicts[(s.trace_id, s.span_id)] = v
    for r in logs:
        skipped["log records"] += 1
        if r.event_name in eval_names and r.trace_id and r.span_id:
            if (v := verdict(r.attrs)) is not None:
                verdicts[(r.trace_id, r.span_id)] = v

    def inherited(s: Span, key: str):
        for anc in chain(s):
            v = _pick(anc.attrs, m[key])
            if v is not None:
                return v
        return None

    calls: list[Call] = []
    for s in unique:
        key = (s.trace_id, s.span_id)
        kind = op(s)
        if key not in candidates or key in wrappers:
            if key in wrappers:
                skipped["wrappers repeating a model call's usage"] += 1
            elif kind in agent_ops:
                skipped["agent runs"] += 1
            elif kind in plan_ops:
                skipped["plan spans"] += 1
            elif kind in tool_ops:
                skipped["tool calls"] += 1
            elif any(k.startswith("http.") or k.startswith("url.") for k in s.attrs) or (
                s.kind in ("server", "client") and not s.attrs.get("gen_ai.operation.name")
            ):
                skipped["HTTP or RPC spans"] += 1
            else:
                skipped["other spans"] += 1
            continue
        ancestors = list(chain(s))
        run = next((a for a in ancestors[1:] if op(a) in agent_ops), None)
        explicit_attempt = next(
            (a for a in ancestors if _pick(a.attrs, m["attempt"]) is not None), None
        )
        run_span = explicit_attempt or run or s
        task_id = inherited(s, "task_id")
        if task_id is not None:
            task_key = str(task_id)
        elif run is not None:
            task_key = f"{s.trace_id}/{run.span_id}"
        else:
            task_key = s.trace_id
        role = inherited(s, "role")
        if role is None:
            # the nearest plan or agent span says whose call it is: a plan span's is the
            # planner's (an executor run inside a job that also planned stays an executor)
            owner = next((a for a in ancestors if op(a) in plan_ops | agent_ops), None)
            if owner is not None and op(owner) in plan_ops:
                role = "planner"
        task_type = inherited(s, "task_type")
        agent = _pick(s.attrs, m["agent"]) or (run and _pick(run.attrs, m["agent"]))
        if task_type is None:
            task_type = (
                agent
                or (run and _run_name(run.name, op(run)))
                or _span_type(s.name, _pick(s.attrs, m["model"]))
            )
        level = _pick(s.attrs, m["level"])
        error = (
            s.status == "error"
            or _pick(s.attrs, m["error_type"]) is not None
            or (isinstance(level, str) and level.lower() in error_levels)
        )
        evaluation = verdicts.get(key)
        if evaluation is None and run_span is not s:
            evaluation = verdicts.get((run_span.trace_id, run_span.span_id))
        if evaluation is None:
            label = _pick(s.attrs, m["verdict"])
            if label is None and run_span is not s:
                label = _pick(run_span.attrs, m["verdict"])
            if label is not None:
                evaluation = str(label).strip().lower() in fail_labels
        fleet = inherited(s, "fleet") or _service(s.resource, m["fleet_resource"])
        extra = {"otel.trace_id": s.trace_id}
        provider = _pick(s.attrs, m["provider"])
        if provider is not None:
            extra["otel.provider"] = provider
        attempt = _pick(explicit_attempt.attrs, m["attempt"]) if explicit_attempt else None
        calls.append(
            Call(
                locator=(f"line {s.line}, " if s.line else "")
                + f"trace {s.trace_id} span {s.span_id}",
                call_id=s.span_id,
                task_key=task_key,
                task_id=None if task_id is None else str(task_id),
                run_key=f"{run_span.trace_id}/{run_span.span_id}",
                start=s.start,
                end=s.end,
                task_type=None if task_type is None else str(task_type),
                role=None if role is None else str(role),
                attempt=_token(attempt),
                model=_pick(s.attrs, m["model"]),
                tier=inherited(s, "tier"),
                input_tokens=_token(_pick(s.attrs, m["input_tokens"]))
                if has_usage(s)
                else (0 if error else None),
                output_tokens=_token(_pick(s.attrs, m["output_tokens"]))
                if has_usage(s)
                else (0 if error else None),
                cached_input_tokens=_token(_pick(s.attrs, m["cached_input_tokens"])),
                cost_usd=_number(_pick(s.attrs, m["cost_usd"])),
                status="error" if error else "ok",
                evaluation_failed=evaluation,
                escalation_reason=inherited(s, "escalation_reason"),
                downstream_failure=_bool(inherited(s, "downstream_failure")),
                planner_tier=inherited(s, "planner_tier"),
                confidence=_number(inherited(s, "confidence")),
                confidence_source=inherited(s, "confidence_source"),
                plan_id=inherited(s, "plan_id") or s.trace_id,
                fleet=fleet,
                agent=agent,
                extra=extra,
            )
        )
    read = len(spans) + len(logs)
    return Traces(calls=calls, skipped=skipped, read=read, bad_lines=bad)


def _service(resource: dict, names: list[str]):
    """The fleet a resource names; the SDK's `unknown_service:…` default names none."""
    for n in names:
        v = resource.get(n)
        if isinstance(v, str) and v.startswith("unknown_service"):
            continue
        if v is not None and v != "":
            return v
    return None


def _run_name(name: str, operation: str) -> str | None:
    """An agent run's name without its operation: `invoke_agent executor` -> `executor`."""
    first, _, rest = name.partition(" ")
    text = rest if first.lower() == operation else name
    return text.strip() or None


def _span_type(name: str, model) -> str:
    """A span's name without the model in it: `generate_content gemini-2.5-flash` ->
    `generate_content`."""
    text = name
    if isinstance(model, str) and model:
        text = text.replace(model, "")
    text = " ".join(text.split())
    return text or name or "model_call"


def read_documents(data: bytes, source_name: str) -> Iterator[Span | LogRecord | BadLine]:
    """Spans of a file's bytes: one JSON document, or one request per line."""
    text = data.decode("utf-8-sig")
    stripped = text.lstrip()
    try:
        doc = json.loads(stripped)
    except json.JSONDecodeError:
        doc = None
    if doc is not None:
        if not is_otlp_document(doc):
            raise OtlpError(f"{source_name}: JSON, but not an OTLP trace export")
        yield from spans_of_json(doc, 1 + text[: len(text) - len(stripped)].count("\n"))
        return
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            yield from read_documents_line(number, line)


def read_documents_line(number: int, line: str) -> Iterator[Span | LogRecord | BadLine]:
    """The spans of one line of a request-per-line file, or the line as a BadLine."""
    try:
        doc = json.loads(line)
    except json.JSONDecodeError as e:
        yield BadLine(
            number,
            line,
            f"not valid JSON ({e.msg}); an OTLP/JSON file holds one export request, "
            f"or one request per line",
        )
        return
    if not is_otlp_document(doc):
        yield BadLine(number, line, "not an OTLP export request (no resourceSpans)")
        return
    yield from spans_of_json(doc, number)
