"""Record-shaped sources: LiteLLM's logs and Langfuse's observation exports, as model calls.

Both are one record per call (LiteLLM) or per observation (Langfuse), written as JSONL, a JSON
array, an API page (`{"data": [...]}`) or CSV. Facts are found by dotted paths through the
record (`metadata.spend_logs_metadata.task_id`), in the order the mapping lists them; a
nested value written as JSON text (CSV exports, `psql` dumps) is read as JSON.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

from tierwatch.ingest.sources.calls import Call, Folded


def lookup(record, path: str):
    """The value at a dotted `path` in `record`; keys that themselves hold dots are found too
    (`metadata.spend_logs_metadata.tierwatch.task.id`). `list:prefix` reads a tag `prefix:v`
    from a list of strings.

    At each level the rest of the path as one key comes first (a value of "" or null there
    is absent, and ends the search at that level), then each split of it into a key and
    what remains, the longest key first; a value written as JSON text is read as JSON."""
    tag, plan = _compiled(path)
    if tag is not None:
        tags = _json(_find(record, plan))
        if isinstance(tags, list):
            for t in tags:
                if isinstance(t, str) and t.startswith(tag):
                    return t[len(tag) :] or None
        return None
    return _find(record, plan)


# a path taken apart: (the rest as one key, ((key, the plan of what remains), ...))
Plan = tuple[str, tuple[tuple[str, "Plan"], ...]]


def _find(node, plan: Plan):
    if type(node) is str and node[:1] in "{[":
        node = _parsed(node)
    if not isinstance(node, dict):
        return None
    whole, splits = plan
    if whole in node:
        v = node[whole]
        return None if v == "" else v
    for head, rest in splits:
        if head in node:
            found = _find(node[head], rest)
            if found is not None:
                return found
    return None


@functools.cache
def _compiled(path: str) -> tuple[str | None, Plan]:
    """A path taken apart once: the tag's `prefix:` (or None) and the plan of the path (of
    the tag list's path, for a tag)."""
    if ":" in path:
        name, prefix = path.split(":", 1)
        return prefix + ":", _plan(tuple(name.split(".")))
    return None, _plan(tuple(path.split(".")))


@functools.cache
def _plan(parts: tuple[str, ...]) -> Plan:
    return ".".join(parts), tuple(
        (".".join(parts[:i]), _plan(parts[i:])) for i in range(len(parts) - 1, 0, -1)
    )


def _json(v):
    if isinstance(v, str) and v[:1] in "{[":
        return _parsed(v)
    return v


@functools.lru_cache(maxsize=1024)
def _parsed(text: str):
    """JSON text read once: a record's metadata is looked into by a dozen paths (read-only;
    the same text gives the same object)."""
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def pick(record, paths: list[str]):
    for p in paths:
        v = lookup(record, p)
        if v is not None:
            return v
    return None


def seconds(v) -> float | None:
    """Epoch seconds of a time written as a number (seconds or ms) or an ISO text."""
    if v is None or isinstance(v, bool):
        return None
    if isinstance(v, int | float):
        return v / 1000 if v > 1e11 else float(v)
    text = str(v).strip()
    try:
        return seconds(float(text))
    except ValueError:
        pass
    try:
        t = dt.datetime.fromisoformat(text.replace(" ", "T", 1))
    except ValueError:
        return None
    if t.tzinfo is None:
        t = t.replace(tzinfo=dt.UTC)
    return t.timestamp()


def integer(v):
    """Token counts: numbers, or digits in text (CSV)."""
    if isinstance(v, str):
        s = v.strip()
        if s.lstrip("-").isdigit():
            return int(s)
        try:
            f = float(s)
        except ValueError:
            return v
        return int(f) if f.is_integer() else v
    if isinstance(v, float) and v.is_integer():
        return int(v)
    return v


def number(v):
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return v
    return v


def boolean(v):
    if isinstance(v, str) and v.strip().lower() in {"true", "false", "1", "0", "yes", "no"}:
        return v.strip().lower() in {"true", "1", "yes"}
    return v


def _text(v) -> str | None:
    return None if v is None else str(v)


def _tokens(record, paths: list[str], error: bool):
    """A token count; a failed call that logged none used none."""
    v = integer(pick(record, paths))
    return 0 if v is None and error else v


# --- LiteLLM -----------------------------------------------------------------------------


def is_litellm(record) -> bool:
    if not isinstance(record, dict):
        return False
    keys = set(record)
    return ({"response_cost", "call_type"} <= keys and "startTime" in keys) or (
        {"request_id", "spend", "startTime"} <= keys
    )


def litellm_call(record: dict, where: str, m: dict, tier_of: Callable[[str], str | None]) -> Call:
    """One LiteLLM call: a StandardLoggingPayload or a LiteLLM_SpendLogs row, read from the
    record alone (the same call delivered in another file, or with other neighbours, is the
    same attempt record)."""
    call_id = _text(pick(record, m["call_id"])) or where
    model = _text(pick(record, m["model"]))
    group = _text(record.get("model_group"))
    # a Router fallback answers from another group: the one first asked for is the caller's
    original = _text(pick(record, ["metadata.original_model_group", "original_model_group"]))
    asked = original or group
    planner_tier = pick(record, [p for p in m["planner_tier"] if p != "model_group_tier"])
    if planner_tier is None and asked:
        # what the caller asked for names the planner's tier, where it names one
        planner_tier = tier_of(asked)
    status = str(pick(record, m["status"]) or "success").strip().lower()
    extra = {"litellm.call_id": call_id}
    if group:
        extra["litellm.model_group"] = group
    fallbacks = pick(record, ["metadata.attempted_fallbacks", "attempted_fallbacks"])
    if fallbacks is not None:
        extra["litellm.attempted_fallbacks"] = fallbacks
    if original is not None:
        extra["litellm.original_model_group"] = original
    failure = pick(record, ["error_information.error_class", "error_information.error_code"])
    if failure is not None:
        extra["litellm.error_class"] = failure
    error = status in {"failure", "failed", "error"}
    return Call(
        locator=where,
        call_id=call_id,
        task_key=_text(pick(record, m["task_id"])) or call_id,
        run_key=call_id,
        start=seconds(pick(record, m["start"])),
        end=seconds(pick(record, m["end"])),
        task_type=_text(pick(record, m["task_type"])),
        role=_text(pick(record, m["role"])),
        model=model,
        input_tokens=_tokens(record, m["input_tokens"], error),
        output_tokens=_tokens(record, m["output_tokens"], error),
        cached_input_tokens=integer(pick(record, m["cached_input_tokens"])),
        cost_usd=number(pick(record, m["cost_usd"])),
        status="error" if error else "ok",
        downstream_failure=boolean(pick(record, m["downstream_failure"])),
        planner_tier=_text(planner_tier),
        confidence=number(pick(record, m["confidence"])),
        plan_id=_text(pick(record, m["plan_id"])),
        fleet=_text(pick(record, m["fleet"])),
        agent=_text(pick(record, m["agent"])),
        extra=extra,
    )


# --- Langfuse ----------------------------------------------------------------------------

LANGFUSE_TYPES = {
    "GENERATION",
    "SPAN",
    "EVENT",
    "AGENT",
    "TOOL",
    "CHAIN",
    "RETRIEVER",
    "EVALUATOR",
    "EMBEDDING",
    "GUARDRAIL",
}


def is_langfuse(record) -> bool:
    return (
        isinstance(record, dict)
        and "traceId" in record
        and str(record.get("type", "")).upper() in LANGFUSE_TYPES
    )


def langfuse_calls(observations: list[tuple[str, dict]], m: dict) -> tuple[list[Call], Counter]:
    """Model calls of Langfuse observations (GENERATION ones); the rest counted by type."""
    by_id = {o.get("id"): o for _, o in observations if o.get("id")}
    calls: list[Call] = []
    skipped: Counter = Counter()

    def agent_of(o: dict) -> dict | None:
        seen = set()
        cur = by_id.get(o.get("parentObservationId"))
        while cur is not None and cur.get("id") not in seen:
            seen.add(cur.get("id"))
            if str(cur.get("type", "")).upper() == "AGENT":
                return cur
            cur = by_id.get(cur.get("parentObservationId"))
        return None

    for where, o in observations:
        kind = str(o.get("type", "")).upper()
        if kind != "GENERATION":
            skipped[f"{kind.lower() or 'untyped'} observations"] += 1
            continue
        agent = agent_of(o)
        trace = _text(o.get("traceId")) or ""
        view = dict(o)
        view["agent_observation"] = f"{trace}/{agent['id']}" if agent else None
        view["agent_name"] = agent.get("name") if agent else None
        level = str(o.get("level") or "DEFAULT").upper()
        call_id = _text(o.get("id")) or where
        calls.append(
            Call(
                locator=f"{where}, observation {call_id}",
                call_id=call_id,
                task_key=_text(pick(view, m["task_id"])) or trace,
                run_key=f"{trace}/{agent['id']}" if agent else call_id,
                start=seconds(pick(o, m["start"])),
                end=seconds(pick(o, m["end"])),
                task_type=_text(pick(view, m["task_type"])),
                role=_text(pick(o, m["role"])),
                attempt=integer(pick(o, m["attempt"])),
                model=_text(pick(o, m["model"])),
                input_tokens=_tokens(o, m["input_tokens"], level == "ERROR"),
                output_tokens=_tokens(o, m["output_tokens"], level == "ERROR"),
                cached_input_tokens=integer(pick(o, m["cached_input_tokens"])),
                cost_usd=number(pick(o, m["cost_usd"])),
                status="error" if level == "ERROR" else "ok",
                evaluation_failed=verdict_of(_verdict_label(o, agent, m), m),
                escalation_reason=_text(pick(o, m["escalation_reason"])),
                downstream_failure=boolean(pick(o, m["downstream_failure"])),
                planner_tier=_text(pick(o, m["planner_tier"])),
                confidence=number(pick(o, m["confidence"])),
                plan_id=trace or None,
                fleet=_text(pick(o, m["fleet"])),
                agent=_text(agent.get("name")) if agent else None,
                extra={"langfuse.trace_id": trace, "langfuse.observation_id": call_id},
            )
        )
    return calls, skipped


# --- Langfuse scores ---------------------------------------------------------------------


def _verdict_label(o: dict, agent: dict | None, m: dict):
    label = pick(o, m["verdict"])
    return pick(agent, m["verdict"]) if label is None and agent is not None else label


def is_langfuse_score(record) -> bool:
    """A Langfuse score (the public API's /scores, or a trace's `scores`): an evaluation of
    a trace or one of its observations."""
    return (
        isinstance(record, dict)
        and "traceId" in record
        and "name" in record
        and "type" not in record
        and ("dataType" in record or "value" in record or "stringValue" in record)
    )


def trace_parts(record) -> list[tuple[str, dict]] | None:
    """A Langfuse trace with its observations and scores (the public API's
    /traces/{id}), as ("observation i" / "score i", record) with the trace's id on each;
    None when the record is not one."""
    if not isinstance(record, dict) or "traceId" in record:
        return None
    observations = record.get("observations")
    if not isinstance(observations, list) or not any(isinstance(o, dict) for o in observations):
        return None
    trace = record.get("id")
    parts = []
    for kind in ("observations", "scores"):
        items = record.get(kind) if isinstance(record.get(kind), list) else []
        for i, item in enumerate(items, start=1):
            if isinstance(item, dict):
                if trace is not None and "traceId" not in item:
                    item = {**item, "traceId": trace}
                parts.append((f"{kind[:-1]} {i}", item))
    return parts


def score_verdict(score: dict, m: dict) -> bool | None:
    """True when the score says the output failed, False when it passed, None when it is
    no verdict: a numeric score, or a label in neither of the mapping's lists. A BOOLEAN
    score is 0 (failed) or 1 (passed); a CATEGORICAL one its label."""
    kind = str(score.get("dataType") or "").upper()
    value, label = score.get("value"), score.get("stringValue")
    if (kind == "BOOLEAN" or isinstance(value, bool)) and value in (0, 1):
        return value == 0
    if kind in {"NUMERIC", "TEXT", "CORRECTION"}:  # a number, a comment, a corrected output
        return None
    if label is None and isinstance(value, str):
        label = value
    return verdict_of(label, m)


def verdict_of(label, m: dict) -> bool | None:
    """A pass/fail label (a score's, or a `verdict` in an observation's metadata) as
    failed (True) or passed (False); None when it is in neither of the mapping's lists."""
    if label is None:
        return None
    text = str(label).strip().lower()
    if text in {x.lower() for x in m["score_fail_labels"]}:
        return True
    if text in {x.lower() for x in m["score_pass_labels"]}:
        return False
    return None


@dataclass(frozen=True, slots=True)
class Judged:
    """The stored call a score judges: its task, and whether it is the task's last call."""

    task_id: str
    is_last: bool
    end: float | None  # epoch seconds


# judged([(trace id, observation id or None)]) -> {place in the list: Judged}
JudgedCalls = Callable[[list[tuple[str, str | None]]], dict[int, Judged]]


def langfuse_scores(
    scores: list[tuple[str, dict]],
    calls: list[Call],
    observations: list[tuple[str, dict]],
    m: dict,
    judged: JudgedCalls | None = None,
) -> tuple[list[Folded], list[tuple[str, str, str]], Counter]:
    """What the file's scores say of its tasks. A score that fails the output a task ended
    with (the scored generation is the task's last call, or the scored agent run or trace
    ends with it) is a downstream-failure record of that task: the evaluation found the
    accepted output wrong. Scores that pass, that are no verdict (numeric, or an unknown
    label), that are not among `score_names`, or that judge a call the task went on from,
    are counted by kind. A score on calls the file does not hold (a scores export loaded
    after its observations) is placed among the stored calls by `judged`; one that neither
    the file nor the store places is a reject (where, raw, reason): its task cannot be
    named.

    Returns (downstream-failure records, rejects, skipped counts)."""
    names = set(m["score_names"])
    parent = {o.get("id"): o.get("parentObservationId") for _, o in observations if o.get("id")}
    by_call = {c.call_id: c for c in calls}
    by_trace: dict[str, list[Call]] = {}
    last_of_task: dict[tuple[str, str], Call] = {}
    for c in sorted(calls, key=Call.order):
        by_trace.setdefault(c.extra.get("langfuse.trace_id") or "", []).append(c)
        last_of_task[c.task] = c

    def under(call: Call, oid: str) -> bool:
        seen, cur = set(), parent.get(call.call_id)
        while cur is not None and cur not in seen:
            if cur == oid:
                return True
            seen.add(cur)
            cur = parent.get(cur)
        return False

    def in_file(s: dict) -> Judged | None:
        trace, oid = _text(s.get("traceId")) or "", _text(s.get("observationId"))
        if oid is None:
            call = (by_trace.get(trace) or [None])[-1]
        elif oid in by_call:
            call = by_call[oid]
        else:
            below = [c for c in by_trace.get(trace, []) if under(c, oid)]
            call = below[-1] if below else None
        if call is None:
            return None
        return Judged(call.task[0], last_of_task.get(call.task) is call, call.end or call.start)

    skipped: Counter = Counter()
    verdicts: list[tuple[str, dict, bool, Judged | None]] = []
    for where, s in scores:
        if names and (_text(s.get("name")) or "") not in names:
            skipped["scores not named in score_names"] += 1
            continue
        failed = score_verdict(s, m)
        if failed is None:
            skipped["scores that are no pass or fail verdict (numeric, or another label)"] += 1
            continue
        verdicts.append((where, s, failed, in_file(s)))
    unplaced = [i for i, (*_, on) in enumerate(verdicts) if on is None]
    if unplaced and judged is not None:
        asks = [
            (_text(verdicts[i][1].get("traceId")) or "", _text(verdicts[i][1].get("observationId")))
            for i in unplaced
        ]
        for j, on in judged(asks).items():
            where, s, failed, _ = verdicts[unplaced[j]]
            verdicts[unplaced[j]] = (where, s, failed, on)

    out: list[Folded] = []
    rejects: list[tuple[str, str, str]] = []
    for where, s, failed, on in verdicts:
        name, sid = _text(s.get("name")) or "", _text(s.get("id")) or where
        if on is None:
            trace, oid = s.get("traceId"), s.get("observationId")
            what = f"observation {oid} of trace {trace}" if oid else f"trace {trace}"
            rejects.append(
                (
                    where,
                    json.dumps(s, default=str)[:10_000],
                    f"score {sid} ({name}) is on {what}, whose model calls neither this file "
                    "nor the store holds; load the observations it scores first (tierwatch "
                    "ingest OBSERVATIONS), then the scores, or export both into one file "
                    "(docs/sources.md)",
                )
            )
            continue
        if not failed:
            skipped["scores that passed"] += 1
            continue
        if not on.is_last:
            skipped["failing scores of calls their task went on from"] += 1
            continue
        record = {
            "record": "downstream_failure",
            "task_id": on.task_id,
            "ts": seconds(s.get("timestamp")) or on.end,
            "detected_by": f"langfuse score {name}" if name else "langfuse score",
            "langfuse.score_id": sid,
            "langfuse.trace_id": _text(s.get("traceId")),
        }
        kept = {k: v for k, v in record.items() if v is not None}
        out.append(Folded(record=kept, locator=where, calls=1))
    return out, rejects, skipped
