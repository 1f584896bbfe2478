"""Model calls, as every source reads them, folded into log-format-v1 attempt records.

Each source (OpenTelemetry, LiteLLM, Langfuse) turns its records into `Call`s: one model
call each, with what the source tells of its task, run, role and routing. `attempts()` is
the one place that decides what an attempt is, for every source alike:

- an attempt is an executor's try at a subtask on one tier: the model calls of one run
  (an agent invocation) on one tier are one attempt, their tokens and cost summed and the
  number of calls kept, so a tool round-trip or an HTTP retry after a 429 inside the run
  is not counted as a routing retry; a run whose calls move to another tier is an
  escalation inside the run, and becomes one attempt per tier, in time order;
- without a run (a bare proxy call), each call is an attempt of its own;
- attempts of one task and role are numbered in time order, unless the fleet numbered
  them itself (`tierwatch.attempt`);
- a reviewer's failing verdict on an attempt makes it `failed`, and the next attempt's
  reason `reviewer_reject`; an errored attempt makes the next one's reason `error`.

The records it yields go through the same checks, identities and quarantine as a v1 file.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field


@dataclass(slots=True)
class Call:
    """One model call, as a source read it. Absent facts are None."""

    locator: str  # where it is in the file: "trace 4bf9… span 00f0…", "line 12"
    call_id: str  # the source's identity of the call (span id, request id)
    task_key: str  # the task: an explicit id, or the run or trace it belongs to
    run_key: str  # the run (agent invocation) it was made in; its own id when none
    start: float | None  # epoch seconds
    end: float | None = None
    task_id: str | None = None  # as the fleet named it (else task_key is used)
    task_type: str | None = None
    role: str | None = None
    attempt: object = None  # the fleet's own attempt number, when given
    model: str | None = None
    tier: str | None = None  # given by the fleet; else the model maps through the ladder
    input_tokens: object = None
    output_tokens: object = None
    cached_input_tokens: object = None
    cost_usd: object = None
    status: str = "ok"  # ok / failed / error
    evaluation_failed: bool | None = None  # a reviewer's verdict on this call's output
    escalation_reason: str | None = None
    downstream_failure: object = None
    planner_tier: str | None = None
    confidence: object = None
    confidence_source: str | None = None
    plan_id: str | None = None
    fleet: str | None = None
    agent: str | None = None
    extra: dict = field(default_factory=dict)

    @property
    def task(self) -> tuple[str, str]:
        """(task id, role): the task and role whose attempts this call is numbered among."""
        return (self.task_id or self.task_key, self.role or "executor")

    def order(self) -> tuple:
        """The key sources number a task's calls by: start (none last), then call id."""
        return (self.start is None, self.start or 0.0, self.call_id)


@dataclass(slots=True)
class Folded:
    """One attempt record (log format v1) and where its first call is."""

    record: dict
    locator: str
    calls: int
    named: bool = False  # its task was named by the fleet (not a run or trace of its own)


def _is_int(v) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _sum(values: list) -> object:
    """Token counts summed; a value that is not an integer is passed on as it is (to be
    rejected with the field named), and absent values count as absent."""
    present = [v for v in values if v is not None]
    if not present:
        return None
    bad = [v for v in present if not _is_int(v)]
    if bad:
        return bad[0]
    return sum(present)


def _cost(values: list) -> object:
    """Logged costs summed when every call logged one; else None (priced from tokens)."""
    if not values or any(v is None for v in values):
        return None
    bad = [v for v in values if isinstance(v, bool) or not isinstance(v, int | float)]
    if bad:
        return bad[0]
    return float(sum(values))


def _first(values: Iterable) -> object:
    return next((v for v in values if v is not None), None)


def attempts(
    calls: list[Call],
    tier_of: Callable[[str], str | None],
    numbered_after: dict[tuple[str, str], tuple[int, str]] | None = None,
) -> Iterator[Folded]:
    """The attempt records of `calls` (which may come from many tasks), in call order.

    `tier_of(model)` maps a model id to its tier on the ladder (None when none matches).
    `numbered_after[(task_id, role)]`: (the last attempt number, its status) of the
    attempts of that task the store already holds from other traces (the receiver derives
    one trace at a time): numbering, and the next attempt's reason, go on from it.
    """
    by_task: dict[tuple[str, str], list[Call]] = defaultdict(list)
    for c in calls:
        by_task[c.task].append(c)
    for (task_id, role), task_calls in by_task.items():
        task_calls.sort(key=Call.order)
        # runs in time order; inside a run, one segment per tier in a row
        segments: list[tuple[str | None, list[Call]]] = []
        open_segment: dict[str, tuple[str | None, list[Call]]] = {}
        for c in task_calls:
            tier = c.tier or (tier_of(c.model) if isinstance(c.model, str) else None)
            current = open_segment.get(c.run_key)
            if current is not None and current[0] == tier:
                current[1].append(c)
            else:
                current = (tier, [c])
                segments.append(current)
                open_segment[c.run_key] = current
        previous: dict | None = None
        first = 1
        if numbered_after and (task_id, role) in numbered_after:
            last, status = numbered_after[(task_id, role)]
            # a stored attempt is "failed" only by a reviewer's verdict (else ok or error)
            previous, first = {"status": status, "_reviewed": status == "failed"}, last + 1
        for n, (_, seg) in enumerate(segments, start=first):
            record = _record(task_id, role, n, seg)
            if previous is not None and record.get("escalation_reason") is None:
                if previous["status"] == "failed" and previous.get("_reviewed"):
                    record["escalation_reason"] = "reviewer_reject"
                elif previous["status"] == "error":
                    record["escalation_reason"] = "error"
            previous = record
            out = {k: v for k, v in record.items() if not k.startswith("_") and v is not None}
            named = any(c.task_id is not None for c in seg)
            yield Folded(record=out, locator=seg[0].locator, calls=len(seg), named=named)


def _record(task_id: str, role: str, n: int, seg: list[Call]) -> dict:
    first, last = seg[0], seg[-1]
    if len(seg) == 1:  # most attempts are one call: its facts as they are, no folding

        def pick(name: str) -> object:
            return getattr(first, name)

    else:

        def pick(name: str) -> object:
            return _first(getattr(c, name) for c in seg)

    reviewed = any(c.evaluation_failed is not None for c in seg)
    failed_review = any(c.evaluation_failed for c in seg)
    status = last.status
    if failed_review and status == "ok":
        status = "failed"
    starts = [c.start for c in seg if c.start is not None]
    ends = [c.end for c in seg if c.end is not None]
    latency = (max(ends) - min(starts)) * 1000 if starts and ends else None
    extra: dict = {}
    for c in seg:
        for k, v in c.extra.items():
            extra.setdefault(k, v)
    extra["source.calls"] = len(seg)
    extra["source.call_ids"] = [c.call_id for c in seg]
    record = {
        "task_id": task_id,
        "role": role,
        "attempt": pick("attempt") or n,
        "ts": min(starts) if starts else None,
        "task_type": pick("task_type"),
        "tier": first.tier,
        "model": last.model,
        "input_tokens": _sum([c.input_tokens for c in seg]),
        "output_tokens": _sum([c.output_tokens for c in seg]),
        "cached_input_tokens": _sum([c.cached_input_tokens for c in seg]),
        "cost_usd": _cost([c.cost_usd for c in seg]),
        "status": status,
        "escalation_reason": pick("escalation_reason"),
        "downstream_failure": pick("downstream_failure"),
        "planner_tier": pick("planner_tier"),
        "confidence": pick("confidence"),
        "confidence_source": pick("confidence_source"),
        "plan_id": pick("plan_id"),
        "fleet": pick("fleet"),
        "agent": pick("agent"),
        "latency_ms": round(latency, 3) if latency is not None and latency >= 0 else None,
        "_reviewed": reviewed,
    }
    record.update({k: v for k, v in extra.items() if k not in record})
    return record
