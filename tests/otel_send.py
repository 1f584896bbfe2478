"""Run the simulated fleet (tests/otel_fleet.py) in a process of its own, exporting with the
real OpenTelemetry SDK over OTLP/HTTP (BatchSpanProcessor + OTLPSpanExporter) to a running
`tierwatch collect`, as a fleet would.

    python tests/otel_send.py URL --jobs N --pb ALL.pb --acked ACKED.txt [--pause S]

Writes every span the fleet made to ALL.pb (one ExportTraceServiceRequest, to load the same
spans from a file), and appends to ACKED.txt the `trace_id span_id` of each span whose
export the receiver acknowledged (the exporter returned SUCCESS), fsynced, so a test that
kills the receiver knows exactly what was acknowledged. Prints the fleet's truth as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter  # noqa: E402
from opentelemetry.sdk.trace.export import (  # noqa: E402
    BatchSpanProcessor,
    SpanExportResult,
)
from otel_fleet import simulate  # noqa: E402


class Acknowledged(OTLPSpanExporter):
    """The real exporter, noting which spans the receiver acknowledged."""

    def __init__(self, acked: Path, **kw):
        super().__init__(**kw)
        self._acked = open(acked, "a", encoding="utf-8")  # noqa: SIM115
        self._lock = threading.Lock()
        self.results = {"success": 0, "failure": 0}

    def export(self, spans):
        result = super().export(spans)
        with self._lock:
            if result is SpanExportResult.SUCCESS:
                self.results["success"] += 1
                for s in spans:
                    c = s.get_span_context()
                    self._acked.write(f"{c.trace_id:032x} {c.span_id:016x}\n")
                self._acked.flush()
                os.fsync(self._acked.fileno())
            else:
                self.results["failure"] += 1
        return result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("--jobs", type=int, default=12)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--pb", type=Path, required=True)
    ap.add_argument("--acked", type=Path, required=True)
    ap.add_argument("--pause", type=float, default=0.0, help="seconds between jobs")
    ap.add_argument("--batch", type=int, default=512, help="max_export_batch_size")
    ap.add_argument("--timeout", type=float, default=30.0, help="exporter timeout, seconds")
    ap.add_argument("--gzip", action="store_true")
    ap.add_argument("--task-prefix", default="", help="before each task id")
    args = ap.parse_args()

    from opentelemetry.exporter.otlp.proto.http import Compression

    exporter = Acknowledged(
        args.acked,
        endpoint=args.url,
        timeout=args.timeout,
        compression=Compression.Gzip if args.gzip else Compression.NoCompression,
    )
    processor = BatchSpanProcessor(
        exporter, schedule_delay_millis=100, max_export_batch_size=args.batch
    )
    fleet = simulate(
        jobs=args.jobs,
        seed=args.seed,
        processors=(processor,),
        between_jobs=(lambda: time.sleep(args.pause)) if args.pause else None,
        task_prefix=args.task_prefix,
    )
    args.pb.write_bytes(fleet.request().SerializeToString())
    truth = {
        "spans": len(fleet.spans),
        "executor_attempts": sum(len(t.attempts) for t in fleet.truth),
        "tasks": len(fleet.truth),
        "escalated_tasks": sum(len(t.attempts) > 1 for t in fleet.truth),
        "planner_calls": fleet.planner_calls,
        "reviewer_calls": fleet.reviewer_calls,
        "exports": exporter.results,
    }
    print(json.dumps(truth))


if __name__ == "__main__":
    main()
