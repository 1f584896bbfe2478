"""Spans received live (`tierwatch collect`): made durable in a spool at once, written to
the store in batches, and derived into attempts once their trace is complete, by the same
mapping as an OTLP file.

The receiver (ingest/receiver.py) decodes a request and hands its spans to
`Collector.submit`, which appends them to the spool next to the store (`<db>.spool/`) and
fsyncs it before the request is answered: a crash at any moment loses nothing that was
acknowledged, and what was not acknowledged the exporter sends again. The writer thread
moves the spool into the store every `batch_seconds` (or at `batch_spans`), in one
transaction per batch, and only then deletes the spool's segments; on start, segments
left by a crash are written first. A span's identity is (trace id, span id): one sent
again, or replayed from the spool after a crash, is a duplicate, never a double count.

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
import fcntl
import json
import os
import random
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from tierwatch.ingest import load, store
from tierwatch.ingest.config import Config
from tierwatch.ingest.sources import otlp

FORMAT = "otlp-http"


@dataclass(frozen=True)
class CollectSettings:
    db: Path
    config: Config
    label: str = "collect"  # names the batches in the ledger: "collect 127.0.0.1:4318"
    batch_seconds: float = 1.0
    batch_spans: int = 20_000
    max_waiting_spans: int = 200_000  # acknowledged, not yet in the store: past this, Busy
    settle_seconds: float = 2.0
    trace_timeout_seconds: float = 300.0
    lock_wait_seconds: float = 10.0


class CollectError(store.StoreError):
    """The receiver cannot run as asked; the message says what to do."""


class Busy(Exception):
    """The writer is behind (or the store is held): the client should retry later."""

    def __init__(self, why: str, retry_after: int = 1):
        super().__init__(why)
        self.retry_after = retry_after


@dataclass
class Ack:
    """What became of one request's spans at once (they are durable when it is made)."""

    spans: int
    rejected: int = 0
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


class Spool:
    """Acknowledged requests not yet in the store: numbered segment files of JSON lines
    (`#` opens a request, `+` a span, `-` a span without valid ids), appended and fsynced
    per request. A segment is closed by `rotate` and deleted once its batch is committed.
    The folder's lock file keeps a second receiver off the same store."""

    def __init__(self, folder: Path):
        self.folder = folder
        try:
            folder.mkdir(exist_ok=True)
            self._lock = open(folder / "lock", "a+")  # noqa: SIM115
        except OSError as e:
            raise CollectError(f"cannot create the spool {folder}: {e.strerror}") from None
        try:
            fcntl.flock(self._lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self._lock.seek(0)
            holder = self._lock.read().strip() or "another process"
            raise CollectError(
                f"another tierwatch collect ({holder}) is receiving into this store "
                f"(its spool {folder} is locked); stop it, or give this one another --db"
            ) from None
        self._lock.seek(0)
        self._lock.truncate()
        self._lock.write(f"pid {os.getpid()}")
        self._lock.flush()
        self._mutex = threading.Lock()
        numbers = [int(p.stem) for p in self.segments()]
        self._next = max(numbers, default=0) + 1
        self._current = None
        self._current_path: Path | None = None

    def segments(self) -> list[Path]:
        return sorted(self.folder.glob("*.jsonl"), key=lambda p: int(p.stem))

    def append(self, spans: list, bad: list) -> None:
        lines = [f"# {len(spans) + len(bad)}\n"]
        lines += [f"+{otlp.span_to_json(x)}\n" for x in spans]
        lines += [f"-{otlp.span_to_json(x)}\n" for x in bad]
        data = "".join(lines).encode()
        with self._mutex:
            if self._current is None:
                self._current_path = self.folder / f"{self._next:012d}.jsonl"
                self._next += 1
                self._current = open(self._current_path, "ab")  # noqa: SIM115
                _fsync_folder(self.folder)
            self._current.write(data)
            self._current.flush()
            os.fsync(self._current.fileno())

    def rotate(self) -> list[Path]:
        """Close the segment being appended to; every closed segment, oldest first."""
        with self._mutex:
            if self._current is not None:
                self._current.close()
                self._current = None
            return self.segments()

    @staticmethod
    def read(segment: Path) -> tuple[int, list[tuple[str, dict]], list[dict]]:
        """(requests, spans as (JSON text, dict), spans without valid ids) of a segment.
        A torn last line (a crash in the middle of an append that was never
        acknowledged) is left out."""
        requests, good, bad = 0, [], []
        with open(segment, "rb") as f:
            for raw in f:
                if not raw.endswith(b"\n"):
                    break
                line = raw.decode()
                if line.startswith("#"):
                    requests += 1
                    continue
                try:
                    d = json.loads(line[1:])
                except json.JSONDecodeError:
                    break
                if line.startswith("+"):
                    good.append((line[1:-1], d))
                else:
                    bad.append(d)
        return requests, good, bad

    @staticmethod
    def spans_in(segment: Path) -> int:
        """The spans a segment holds, counted without decoding them."""
        with open(segment, "rb") as f:
            return sum(1 for raw in f if raw[:1] in (b"+", b"-") and raw.endswith(b"\n"))

    def done(self, segments: list[Path]) -> None:
        for p in segments:
            p.unlink(missing_ok=True)
        _fsync_folder(self.folder)

    def close(self) -> None:
        if self._lock.closed:
            return
        self.rotate()
        fcntl.flock(self._lock, fcntl.LOCK_UN)
        self._lock.close()


def _fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def spool_of(db: Path) -> Path:
    return db.with_name(db.name + ".spool")


class Collector:
    """The receiver's writer: spool, batches, completeness, accounting."""

    def __init__(self, settings: CollectSettings, log: Callable[[str], None] = print):
        self.settings = settings
        self.log = log
        self._cond = threading.Condition()
        self._spooled = 0  # spans acknowledged and not yet in the store
        self._first_spooled = 0.0
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._spool: Spool | None = None
        # trace id -> (last span received, epoch seconds; root span received)
        self._traces: dict[str, tuple[float, bool]] = {}
        self._waiting_spans = 0
        self.totals = Counter()

    # --- the receiver's side -------------------------------------------------------------

    def submit(self, spans: list, bad: list) -> Ack:
        """Make a request's spans durable (appended to the spool and fsynced); what became
        of them at once. Blocking (a disk write): call it from a worker thread. Raises Busy
        when more than `max_waiting_spans` are acknowledged and not yet in the store."""
        n = len(spans) + len(bad)
        with self._cond:
            if self._stopping or self._spool is None:
                raise Busy("shutting down", retry_after=5)
            if self._spooled and self._spooled + n > self.settings.max_waiting_spans:
                self.totals["refused_busy"] += 1
                # spread the retries, so that refused exporters do not all come back at once
                raise Busy(
                    f"{self._spooled} spans are waiting to be written "
                    f"(the limit is {self.settings.max_waiting_spans})",
                    retry_after=random.randint(1, 3),
                )
            if not self._spooled:
                self._first_spooled = time.monotonic()
            self._spooled += n  # counted before the write: the limit holds across threads
        try:
            self._spool.append(spans, bad)
        except BaseException:
            with self._cond:
                self._spooled -= n
            raise
        with self._cond:
            self._cond.notify_all()
        ack = Ack(spans=n, rejected=len(bad))
        if bad:
            ack.reasons[_BAD_IDS] = len(bad)
        return ack

    def waiting(self) -> dict:
        with self._cond:
            return {
                "queued_spans": self._spooled,
                "waiting_spans": self._waiting_spans,
                "waiting_traces": len(self._traces),
                "batches": self.totals["batches"],
                "refused_busy": self.totals["refused_busy"],
            }

    # --- life ------------------------------------------------------------------------------

    def start(self) -> None:
        """Open the store (creating and migrating it) and the spool, read the traces still
        waiting, and start the writer; a spool a crash left is written first."""
        s = self.settings
        with store.open_store(s.db, read_only=False, wait=s.lock_wait_seconds) as con:
            store.ensure_ladder(con, s.config)
            rows = con.execute(
                "select trace_id, epoch(max(received_at)), bool_or(is_root), count(*) "
                "from collected_spans where derived_in is null group by trace_id"
            ).fetchall()
        self._spool = Spool(spool_of(s.db))
        self._traces = {t: (last, root) for t, last, root, _ in rows}
        self._waiting_spans = sum(r[3] for r in rows)
        left = self._spool.segments()
        if left:
            self._spooled = sum(Spool.spans_in(seg) for seg in left)
            self._first_spooled = time.monotonic() - s.batch_seconds
            self.log(
                f"tierwatch collect: {self._spooled} acknowledged spans in {len(left)} spool "
                f"segments from the last run are written first"
            )
        self._thread = threading.Thread(target=self._run, name="tierwatch-collect", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Write what was acknowledged, derive every trace whose root is in, and stop."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if self._spool is not None:
            self._spool.close()

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
        failures = 0
        while True:
            with self._cond:
                while True:
                    now = time.monotonic()
                    if self._stopping:
                        break
                    if self._spooled and (
                        self._spooled >= s.batch_spans
                        or now - self._first_spooled >= s.batch_seconds
                    ):
                        break
                    if not self._spooled and self._traces and now >= next_check:
                        break
                    wait = s.batch_seconds
                    if self._spooled:
                        wait = self._first_spooled + s.batch_seconds - now
                    self._cond.wait(timeout=max(wait, 0.01))
                final = self._stopping
            segments = self._spool.rotate()
            due = self._due(time.time(), final)
            if segments or due:
                try:
                    self._write_segments(segments)
                    failures = 0
                except Exception as e:  # the store held too long, a full disk, ...
                    failures += 1
                    self.log(
                        f"tierwatch collect: cannot write to {s.db} ({e}); what was "
                        f"acknowledged stays in the spool {self._spool.folder} and is written "
                        f"when the store can be written"
                        + ("" if not final else "; it is written when collect runs again")
                    )
                    if final:
                        break
                    time.sleep(min(0.5 * failures, 5.0))
                    continue
            next_check = time.monotonic() + min(s.batch_seconds, s.settle_seconds)
            if final:
                break

    def _write_segments(self, segments: list[Path]) -> None:
        """The closed segments, in batches of about `batch_spans`, each committed and then
        its segments deleted."""
        group: list[Path] = []
        requests, good, bad = 0, [], []
        for seg in segments:
            r, g, b = Spool.read(seg)
            group.append(seg)
            requests += r
            good.extend(g)
            bad.extend(b)
            if len(good) + len(bad) >= self.settings.batch_spans:
                self._write(requests, good, bad)
                self._spool.done(group)
                group, requests, good, bad = [], 0, [], []
        if group or not segments:
            self._write(requests, good, bad)  # also derives the traces that are due
            self._spool.done(group)

    def _write(self, requests: int, good: list[tuple[str, dict]], bad: list[dict]) -> None:
        s = self.settings
        now = time.time()
        started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        incoming = pa.table(
            {
                "pos": pa.array(range(len(good)), pa.int32()),
                "trace_id": pa.array([d["trace_id"] for _, d in good], pa.string()),
                "span_id": pa.array([d["span_id"] for _, d in good], pa.string()),
                "is_root": pa.array([d["parent_id"] is None for _, d in good], pa.bool_()),
                "body": pa.array([text for text, _ in good], pa.string()),
            }
        )
        with store.open_store(s.db, read_only=False, wait=s.lock_wait_seconds) as con:
            load.limit_memory(con)
            store.ensure_ladder(con, s.config)
            store.clear_staging(con)
            file_id = con.execute("select nextval('file_id_seq')").fetchall()[0][0]
            label = f"{s.label} batch {file_id} at {started:%Y-%m-%d %H:%M:%S}Z"
            result = load.FileResult(path=label, format=FORMAT, loaded_by="tierwatch collect")

            con.register("incoming_batch", incoming)
            con.execute(
                """
                create or replace temp table incoming as
                with i as (
                    select *, row_number() over (
                        partition by trace_id, span_id order by pos) > 1 as twice
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
            duplicates = con.execute(
                "select count(*) from incoming where verdict = 'duplicate'"
            ).fetchone()[0]
            new = con.execute(
                "select trace_id, bool_or(is_root), count(*) from incoming "
                "where verdict = 'new' group by trace_id"
            ).fetchall()

            # the traces this batch completes: those due, and those whose spans came now
            traces = dict(self._traces)
            for trace_id, root, _ in new:
                _, had_root = traces.get(trace_id, (now, False))
                traces[trace_id] = (now, had_root or root)
            due = self._due(now, self._stopping, traces)
            con.register("due_batch", pa.table({"trace_id": pa.array(due, pa.string())}))
            con.execute("create or replace temp table due_traces as from due_batch")
            con.unregister("due_batch")
            held = con.execute(
                "select body from collected_spans where derived_in is null "
                "and trace_id in (select trace_id from due_traces)"
            ).fetchall()
            arrived = con.execute(
                "select pos from incoming where verdict = 'new' "
                "and trace_id in (select trace_id from due_traces)"
            ).fetchall()
            spans = [otlp.span_from_json(b) for (b,) in held]
            spans += [otlp.span_from_dict(good[i][1]) for (i,) in arrived]
            if spans:
                load.stage_blocks(
                    con,
                    load.read_spans(spans, s.config, result, load.stored_attempts(con)),
                    s.config,
                    file_id,
                    label,
                    result,
                )

            # quarantined at once: spans without valid ids, spans of a derived trace
            late = con.execute(
                "select pos from incoming where verdict = 'late' order by pos"
            ).fetchall()
            refused = [(None, _bad_ids_reason(), d) for d in bad]
            refused += [("trace_id", _late_reason(s), good[i][1]) for (i,) in late]
            quarantined = [
                [
                    file_id,
                    label,
                    n,
                    field_name,
                    why,
                    json.dumps(d, default=str)[: load.MAX_RAW_CHARS],
                    f"trace {d.get('trace_id') or '(none)'} span {d.get('span_id') or '(none)'}",
                ]
                for n, (field_name, why, d) in enumerate(refused, start=result.read + 1)
            ]
            if quarantined:
                con.executemany(
                    "insert into staging_rejects (file_id, path, line, field, reason, raw, "
                    "locator) values (?, ?, ?, ?, ?, ?, ?)",
                    quarantined,
                )
            result.read += len(refused) + duplicates
            result.duplicates += duplicates
            result.rejected += len(refused)

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

            if requests or due:
                load.commit_staged(
                    con,
                    result,
                    file_id=file_id,
                    digest=f"collect:{uuid.uuid4().hex}",
                    size=sum(len(text) for text, _ in good),
                    started=started,
                    also=keep_spans,
                )

        # committed: the spool's segments may go, and the derived traces are done
        received = len(good) + len(bad)
        with self._cond:
            for trace_id, root, n in new:
                _, had_root = self._traces.get(trace_id, (now, False))
                self._traces[trace_id] = (now, had_root or root)
                self._waiting_spans += n
            for t in due:
                self._traces.pop(t, None)
            self._waiting_spans -= len(spans)
            self._spooled = max(0, self._spooled - received)
            if self._spooled:
                self._first_spooled = time.monotonic()
            waiting_spans, waiting_traces = self._waiting_spans, len(self._traces)
        if not (requests or due):
            return
        summary = BatchSummary(
            result=result,
            requests=requests,
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


def _late_reason(s: CollectSettings) -> str:
    return (
        f"arrived after its trace was derived (a trace is derived {s.settle_seconds:g} s "
        f"after its root span, or {s.trace_timeout_seconds:g} s after its last span); "
        f"if your exporters deliver this late, raise --settle or --trace-timeout"
    )


def _bad_ids_reason() -> str:
    return (
        "no valid trace or span id: OTLP needs a 16-byte trace id and an 8-byte span id, "
        "not all zero; the exporter that sent it is broken"
    )
