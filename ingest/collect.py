"""Spans received live (`tierwatch collect`), written to the store in batches and derived
into attempts once their trace is complete, by the same mapping as an OTLP file.

The receiver (ingest/receiver.py) decodes a request and hands its spans to `Collector.submit`;
the writer thread commits everything submitted every `batch_seconds` (or at `batch_spans`),
and only then is each request answered: a request is acknowledged once it is in the store,
so a crash at any moment loses nothing acknowledged, and what was not acknowledged the
exporter sends again. A span's identity is (trace id, span id): one sent again is a
duplicate, whether it is still waiting or its trace was derived long ago.

When is a trace complete? Spans end children first and a run spans several exports, so a
trace is derived once its root span (no parent) is in and no span of it arrived for
`settle_seconds`, or, for a trace whose root never comes (it is in another service), once
no span of it arrived for `trace_timeout_seconds`. Until then its spans wait in
`collected_spans`, which survives restarts. A span of a trace already derived is
quarantined (a reject saying so), not folded into attempts that were already counted.

Accounting, per batch (one ledger row): the spans of the traces it derived, counted as an
OTLP file's are (read = loaded + duplicates + rejected + skipped), plus the spans it
received that were duplicates or rejected at once. A span waiting for its trace is in no
row yet; `waiting()` counts them.
"""

from __future__ import annotations

import datetime as dt
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from ingest import load, store
from ingest.config import Config
from ingest.sources import otlp

FORMAT = "otlp-http"


@dataclass(frozen=True)
class CollectSettings:
    db: Path
    config: Config
    label: str = "collect"  # names the batches in the ledger: "collect 127.0.0.1:4318"
    batch_seconds: float = 1.0
    batch_spans: int = 5_000
    max_waiting_spans: int = 20_000  # submitted, not yet written: past this, Busy
    settle_seconds: float = 2.0
    trace_timeout_seconds: float = 300.0
    lock_wait_seconds: float = 10.0


class Busy(Exception):
    """The writer is behind (or the store is held): the client should retry later."""

    def __init__(self, why: str, retry_after: int = 1):
        super().__init__(why)
        self.retry_after = retry_after


@dataclass
class Ack:
    """What became of one request's spans, once committed."""

    spans: int
    rejected: int = 0
    duplicates: int = 0
    reasons: Counter = field(default_factory=Counter)

    def message(self) -> str:
        if not self.rejected:
            return ""
        why = "; ".join(f"{n} {reason}" for reason, n in self.reasons.most_common())
        return (
            f"{self.rejected} of {self.spans} spans rejected: {why}. They are kept in the "
            f"store: tierwatch rejects lists them"
        )


@dataclass
class _Request:
    spans: list  # otlp.Span, with valid ids
    bad: list  # otlp.Span without valid ids: rejected at once
    size: int
    future: Future


@dataclass
class BatchSummary:
    """One batch as `tierwatch collect` logs it."""

    result: load.FileResult
    requests: int
    received: int
    traces_derived: int
    waiting_spans: int
    waiting_traces: int

    def line(self) -> str:
        r = self.result
        return (
            f"{r.path}: {self.requests} requests, {self.received} spans received; "
            f"{self.traces_derived} traces derived: read {r.read}, loaded {r.loaded}, "
            f"duplicates {r.duplicates}, rejected {r.rejected}, skipped {r.skipped}; "
            f"{self.waiting_spans} spans of {self.waiting_traces} traces wait for their "
            f"trace to complete"
        )


_BAD_IDS = "without a valid trace or span id (16 and 8 bytes, not all zero)"
_LATE = "arrived after their trace was derived"


class Collector:
    """The receiver's writer: batches, durability, completeness, accounting."""

    def __init__(self, settings: CollectSettings, log: Callable[[str], None] = print):
        self.settings = settings
        self.log = log
        self._cond = threading.Condition()
        self._queue: list[_Request] = []
        self._queued_spans = 0
        self._first_queued = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None
        # trace id -> (last span received, epoch seconds; root span received)
        self._traces: dict[str, tuple[float, bool]] = {}
        self._waiting_spans = 0
        self.totals = Counter()
        self.failure: str | None = None  # the last batch's error, while it lasts

    # --- the receiver's side -------------------------------------------------------------

    def submit(self, spans: list, bad: list, size: int) -> Future:
        """Queue a request's spans; its future gives the Ack once they are in the store.
        Raises Busy when the writer is too far behind to take them."""
        future: Future = Future()
        with self._cond:
            if self._stopping:
                raise Busy("shutting down", retry_after=5)
            n = len(spans) + len(bad)
            if self._queue and self._queued_spans + n > self.settings.max_waiting_spans:
                self.totals["refused_busy"] += 1
                # spread the retries, so that refused exporters do not all come back at once
                raise Busy(
                    f"{self._queued_spans} spans are waiting to be written "
                    f"(the limit is {self.settings.max_waiting_spans})",
                    retry_after=random.randint(1, 3),
                )
            if self.failure and self._queue:
                self.totals["refused_busy"] += 1
                raise Busy(self.failure, retry_after=2)
            if not self._queue:
                self._first_queued = time.monotonic()
            self._queue.append(_Request(spans, bad, size, future))
            self._queued_spans += n
            self._cond.notify_all()
        return future

    def waiting(self) -> dict:
        with self._cond:
            return {
                "queued_spans": self._queued_spans,
                "waiting_spans": self._waiting_spans,
                "waiting_traces": len(self._traces),
                "batches": self.totals["batches"],
                "refused_busy": self.totals["refused_busy"],
            }

    # --- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the store (creating and migrating it), read the traces still waiting, and
        start the writer."""
        with store.open_store(
            self.settings.db, read_only=False, wait=self.settings.lock_wait_seconds
        ) as con:
            store.ensure_ladder(con, self.settings.config)
            rows = con.execute(
                "select trace_id, epoch(max(received_at)), bool_or(is_root), count(*) "
                "from collected_spans where derived_in is null group by trace_id"
            ).fetchall()
        self._traces = {t: (last, root) for t, last, root, _ in rows}
        self._waiting_spans = sum(r[3] for r in rows)
        self._thread = threading.Thread(target=self._run, name="tierwatch-collect", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what was submitted, derive every trace whose root is in, and stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()

    # --- the writer ------------------------------------------------------------------------

    def _due(self, now: float, final: bool, traces: dict | None = None) -> list[str]:
        s = self.settings
        traces = self._traces if traces is None else traces
        return [
            t
            for t, (last, root) in traces.items()
            if (root and (final or now - last >= s.settle_seconds))
            or now - last >= s.trace_timeout_seconds
        ]

    def _run(self) -> None:
        s = self.settings
        next_check = 0.0
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._stopping:
                        break
                    if self._queue and (
                        self._queued_spans >= s.batch_spans
                        or now - self._first_queued >= s.batch_seconds
                    ):
                        break
                    if not self._queue and self._traces and now >= next_check:
                        break
                    wait = s.batch_seconds
                    if self._queue:
                        wait = max(0.0, self._first_queued + s.batch_seconds - now)
                    self._cond.wait(timeout=max(wait, 0.01))
                requests, self._queue, self._queued_spans = self._queue, [], 0
                final = self._stopping
            due = self._due(time.time(), final)
            if requests or due:
                try:
                    self._write(requests)
                    self.failure = None
                except Exception as e:  # the store held too long, a full disk, ...
                    self.failure = f"cannot write to {s.db}: {e}"
                    self.log(f"tierwatch collect: {self.failure}; the exporters will retry")
                    for r in requests:
                        if not r.future.done():
                            r.future.set_exception(Busy(self.failure, retry_after=2))
                    if final:
                        break
                    time.sleep(0.5)
                    continue
            next_check = time.monotonic() + min(s.batch_seconds, s.settle_seconds)
            if final:
                break

    def _write(self, requests: list[_Request]) -> None:
        s = self.settings
        now = time.time()
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        rows = {"req": [], "pos": [], "trace_id": [], "span_id": [], "is_root": [], "body": []}
        for i, r in enumerate(requests):
            for j, span in enumerate(r.spans):
                rows["req"].append(i)
                rows["pos"].append(j)
                rows["trace_id"].append(span.trace_id)
                rows["span_id"].append(span.span_id)
                rows["is_root"].append(span.parent_id is None)
                rows["body"].append(otlp.span_to_json(span))
        incoming = pa.table(
            rows,
            schema=pa.schema(
                [
                    ("req", pa.int32()),
                    ("pos", pa.int32()),
                    ("trace_id", pa.string()),
                    ("span_id", pa.string()),
                    ("is_root", pa.bool_()),
                    ("body", pa.string()),
                ]
            ),
        )
        with store.open_store(s.db, read_only=False, wait=s.lock_wait_seconds) as con:
            con.execute(f"set memory_limit = '{load.INGEST_MEMORY_LIMIT}'")
            store.ensure_ladder(con, s.config)
            load.clear_staging(con)
            file_id = con.execute("select nextval('file_id_seq')").fetchall()[0][0]
            label = f"{s.label} batch {file_id} at {started:%Y-%m-%d %H:%M:%S}Z"
            result = load.FileResult(path=label, format=FORMAT)

            con.register("incoming_batch", incoming)
            con.execute(
                """
                create or replace temp table incoming as
                with i as (
                    select *, row_number() over (
                        partition by trace_id, span_id order by req, pos) > 1 as twice
                    from incoming_batch
                ),
                held as (
                    select trace_id, span_id, derived_in from collected_spans
                    where trace_id in (select trace_id from incoming_batch)
                ),
                derived as (select distinct trace_id from held where derived_in is not null)
                select i.*,
                    case
                        when i.twice or h.span_id is not null then 'duplicate'
                        when d.trace_id is not null then 'late'
                        else 'new'
                    end as verdict
                from i
                left join held as h on h.trace_id = i.trace_id and h.span_id = i.span_id
                left join derived as d on d.trace_id = i.trace_id
                """
            )
            con.unregister("incoming_batch")
            verdicts = con.execute(
                "select req, verdict, count(*) from incoming group by all"
            ).fetchall()
            new = con.execute(
                "select trace_id, bool_or(is_root), count(*) from incoming "
                "where verdict = 'new' group by trace_id"
            ).fetchall()

            # the traces this batch completes: those due, and those whose spans came now
            traces = dict(self._traces)
            for trace_id, root, _ in new:
                last, had_root = traces.get(trace_id, (now, False))
                traces[trace_id] = (now, had_root or root)
            due = self._due(now, self._stopping, traces)
            con.execute("create or replace temp table due_traces (trace_id varchar)")
            if due:
                con.executemany("insert into due_traces values (?)", [[t] for t in due])
            bodies = con.execute(
                "select body from collected_spans where derived_in is null "
                "and trace_id in (select trace_id from due_traces) "
                "union all select body from incoming where verdict = 'new' "
                "and trace_id in (select trace_id from due_traces)"
            ).fetchall()
            spans = [otlp.span_from_json(b) for (b,) in bodies]
            if spans:
                load.stage_blocks(
                    con,
                    load.read_spans(spans, s.config, result, _stored_attempts(con)),
                    s.config,
                    file_id,
                    label,
                    result,
                )

            # what was refused at once: spans without valid ids, spans of a derived trace
            acks = [Ack(spans=len(r.spans) + len(r.bad)) for r in requests]
            rejects = []
            for i, r in enumerate(requests):
                for span in r.bad:
                    rejects.append((i, None, _BAD_IDS, span))
            late = con.execute(
                "select req, pos from incoming where verdict = 'late' order by req, pos"
            ).fetchall()
            for i, j in late:
                rejects.append((i, "trace_id", _LATE, requests[i].spans[j]))
            quarantined = []
            for n, (i, field_name, why, span) in enumerate(rejects, start=result.read + 1):
                acks[i].rejected += 1
                acks[i].reasons[why] += 1
                quarantined.append(
                    [
                        file_id,
                        label,
                        n,
                        field_name,
                        _reason(why, s),
                        otlp.span_to_json(span)[: load.MAX_RAW_CHARS],
                        f"trace {span.trace_id or '(none)'} span {span.span_id or '(none)'}",
                    ]
                )
            if quarantined:
                con.executemany(
                    "insert into staging_rejects (file_id, path, line, field, reason, raw, "
                    "locator) values (?, ?, ?, ?, ?, ?, ?)",
                    quarantined,
                )
            for i, verdict, n in verdicts:
                if verdict == "duplicate":
                    acks[i].duplicates += n
            duplicates = sum(a.duplicates for a in acks)
            result.read += len(rejects) + duplicates
            result.duplicates += duplicates
            result.rejected += len(rejects)

            def keep_spans(con) -> None:
                con.execute(
                    "insert into collected_spans select trace_id, span_id, is_root, "
                    "to_timestamp(?)::timestamp, "
                    "case when trace_id in (select trace_id from due_traces) "
                    "then null else body end, "
                    "case when trace_id in (select trace_id from due_traces) "
                    "then ? end "
                    "from incoming where verdict = 'new'",
                    [now, file_id],
                )
                con.execute(
                    "update collected_spans set derived_in = ?, body = null "
                    "where derived_in is null and trace_id in (select trace_id from due_traces)",
                    [file_id],
                )

            load.commit_staged(
                con,
                result,
                file_id=file_id,
                digest=f"collect:{uuid.uuid4().hex}",
                size=sum(r.size for r in requests),
                started=started,
                also=keep_spans,
            )

        # committed: the requests are durable, and the derived traces are done
        received = sum(a.spans for a in acks)
        with self._cond:
            for trace_id, root, n in new:
                last, had_root = self._traces.get(trace_id, (now, False))
                self._traces[trace_id] = (now, had_root or root)
                self._waiting_spans += n
            for t in due:
                self._traces.pop(t, None)
            self._waiting_spans -= len(spans)
            waiting_spans, waiting_traces = self._waiting_spans, len(self._traces)
        for r, a in zip(requests, acks, strict=True):
            r.future.set_result(a)
        summary = BatchSummary(
            result=result,
            requests=len(requests),
            received=received,
            traces_derived=len(due),
            waiting_spans=waiting_spans,
            waiting_traces=waiting_traces,
        )
        for key in ("read", "loaded", "duplicates", "rejected", "skipped"):
            self.totals[key] += getattr(result, key)
        self.totals["batches"] += 1
        self.totals["received"] += received
        self.totals["traces"] += len(due)
        self.log(summary.line())


def _stored_attempts(con):
    """The attempts the store holds of named tasks, from traces other than those being
    derived: a task the fleet retried in a new trace goes on being numbered."""

    def count(keys: set[tuple[str, str]], trace_ids: set[str]) -> dict:
        con.execute("create or replace temp table named_tasks (task_id varchar, role varchar)")
        con.executemany("insert into named_tasks values (?, ?)", [list(k) for k in keys])
        con.execute("create or replace temp table deriving (trace_id varchar)")
        con.executemany("insert into deriving values (?)", [[t] for t in trace_ids])
        rows = con.execute(
            """
            select a.task_id, a.role, max(a.attempt), arg_max(a.status, a.attempt)
            from attempts as a
            join named_tasks as n using (task_id, role)
            where coalesce(json_extract_string(a.extra, '$."otel.trace_id"'), '')
                not in (select trace_id from deriving)
            group by all
            """
        ).fetchall()
        return {(t, r): (n, status) for t, r, n, status in rows}

    return count


def _reason(why: str, s: CollectSettings) -> str:
    if why == _LATE:
        return (
            f"arrived after its trace was derived (a trace is derived {s.settle_seconds:g} s "
            f"after its root span, or {s.trace_timeout_seconds:g} s after its last span); "
            f"if your exporters deliver this late, raise --settle or --trace-timeout"
        )
    return (
        "no valid trace or span id: OTLP needs a 16-byte trace id and an 8-byte span id, "
        "not all zero; the exporter that sent it is broken"
    )
