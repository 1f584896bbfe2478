"""`tierwatch collect`: an OTLP/HTTP receiver that writes a fleet's traces into the store."""

from __future__ import annotations

import os
import signal
import socket

import click

from tierwatch.cli.errors import fail
from tierwatch.cli.options import config_option, db_option
from tierwatch.ingest import environment
from tierwatch.ingest.collect import Collector, CollectSettings
from tierwatch.ingest.config import load_config
from tierwatch.ingest.receiver import DEFAULT_MAX_BODY, create_app
from tierwatch.ingest.store import db_path

TOKEN_ENV = environment.variable("collect_token")
LOCAL = {"127.0.0.1", "localhost", "::1"}


@click.command()
@db_option
@config_option
@click.option(
    "--host",
    default="127.0.0.1",
    show_default=True,
    help="Address to listen on; another than 127.0.0.1 is reachable by others: set --token.",
)
@click.option(
    "--port",
    default=4318,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Port to listen on (4318 is OTLP/HTTP's).",
)
@click.option(
    "--token",
    envvar=TOKEN_ENV,
    default=None,
    help=f"Require 'Authorization: Bearer TOKEN' (or HTTP Basic with TOKEN as password, as "
    f"the Langfuse SDK sends its secret key) on every request (env {TOKEN_ENV}).",
)
@click.option(
    "--batch-seconds",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0.01),
    help="Write what arrived at least this often.",
)
@click.option(
    "--batch-spans",
    default=20000,
    show_default=True,
    type=click.IntRange(min=1),
    help="...or as soon as this many spans wait to be written.",
)
@click.option(
    "--max-waiting",
    default=200000,
    show_default=True,
    type=click.IntRange(min=1),
    help="Spans acknowledged but not yet in the store past which requests get 503 Retry-After.",
)
@click.option(
    "--settle",
    default=2.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds after a trace's root span (and its last span) before it is derived.",
)
@click.option(
    "--trace-timeout",
    default=300.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds after its last span that a trace whose root never came is derived.",
)
@click.option(
    "--max-body-mb",
    default=DEFAULT_MAX_BODY >> 20,
    show_default=True,
    type=click.IntRange(min=1),
    help="Largest request body, compressed or decompressed (413 past it).",
)
def collect(
    db,
    config_path,
    host,
    port,
    token,
    batch_seconds,
    batch_spans,
    max_waiting,
    settle,
    trace_timeout,
    max_body_mb,
):
    """Receive OpenTelemetry traces over OTLP/HTTP and write them into the store.

    Point an exporter at it: OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 for an
    SDK, or an `otlphttp` exporter in an OpenTelemetry Collector (docs/collect.md). Spans
    map to attempts exactly as `tierwatch ingest` maps an OTLP file (docs/sources.md).

    A request is answered once its spans are fsynced to a spool next to the store
    (DB.spool/), which is moved into the store in batches and replayed after a crash: a
    crash loses nothing that was acknowledged, and a span sent twice is a duplicate. A
    trace becomes attempts once its root span is in and it has been quiet for --settle
    seconds (or after --trace-timeout without its root). The store is held only for the
    moment of each batch: the dashboard, `tierwatch report` and `tierwatch ingest` keep
    working.

    One line is logged per batch (stderr); SIGTERM or Ctrl-C writes what was
    acknowledged, derives the traces whose root is in, prints a summary and exits 0.
    """
    import uvicorn

    if host not in LOCAL and not token:
        click.echo(
            f"tierwatch collect: listening on {host} without a token: anyone who can reach "
            f"it can write to {db}. Set --token or {TOKEN_ENV} (docs/collect.md).",
            err=True,
        )
    config = load_config(config_path)
    label = f"collect {host}:{port}"
    settings = CollectSettings(
        db=db_path(db),
        config=config,
        label=label,
        batch_seconds=batch_seconds,
        batch_spans=batch_spans,
        max_waiting_spans=max(max_waiting, batch_spans),
        settle_seconds=settle,
        trace_timeout_seconds=trace_timeout,
    )
    collector = Collector(settings, log=lambda line: click.echo(line, err=True))
    app = create_app(collector, max_body=max_body_mb << 20, token=token)
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host=host,
            port=port,
            log_level="critical",  # what goes wrong is said here, without uvicorn's traceback
            lifespan="on",
            limit_concurrency=64,
            access_log=False,
        )
    )
    _check_port(host, port)
    collector.start()  # the store opened, migrated and checked before the port is taken
    click.echo(
        f"tierwatch collect: receiving OTLP/HTTP traces on http://{host}:{port}/v1/traces "
        f"into {db} (pid {os.getpid()}); Ctrl-C or SIGTERM stops it",
        err=True,
    )
    # uvicorn handles SIGTERM/SIGINT while serving and raises them again when done: these
    # take that second one, so that the summary is printed and the exit status is 0
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    try:
        server.run()
    except SystemExit:  # uvicorn gives up when the port cannot be bound after all
        pass
    collector.stop()
    if not server.started:
        fail(f"cannot listen on {host}:{port}")
    click.echo(_summary(collector), err=True)


def _check_port(host: str, port: int) -> None:
    """Fail early, with what to do, when the address cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind((host, port))
        except OSError as e:
            fail(
                f"cannot listen on {host}:{port}: {e.strerror}. Is another receiver "
                f"(tierwatch collect, an OpenTelemetry Collector) on that port? "
                f"Stop it, or pick another with --port"
            )


def _summary(collector: Collector) -> str:
    t, waiting = collector.totals, collector.waiting()
    parts = [
        f"tierwatch collect: stopped after {t['batches']} batches: {t['received']} spans "
        f"received, {t['traces']} traces derived (read {t['read']}, loaded {t['loaded']}, "
        f"duplicates {t['duplicates']}, rejected {t['rejected']}, skipped {t['skipped']})"
    ]
    if t["refused_busy"]:
        parts.append(f"{t['refused_busy']} requests asked to retry later (503, behind)")
    if waiting["waiting_spans"]:
        parts.append(
            f"{waiting['waiting_spans']} spans of {waiting['waiting_traces']} traces wait "
            f"for their root span and are derived when collect runs again"
        )
    else:
        parts.append("nothing waits")
    return "; ".join(parts)


COMMANDS = [collect]
