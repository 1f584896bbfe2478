"""`tierwatch dashboard` and `tierwatch demo`: start the Streamlit dashboard on a store.

The dashboard process is Streamlit itself (this process becomes it), told where the store
and config are through the environment; it reads the store read-only per interaction, so
`tierwatch ingest` keeps working while it runs.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from tierwatch.cli.options import config_option, db_option
from tierwatch.dashboard import settings as dashboard_settings
from tierwatch.ingest import environment
from tierwatch.ingest.config import load_config
from tierwatch.ingest.sample import load_sample
from tierwatch.ingest.store import StoreMissing, open_store

address_option = click.option(
    "--address",
    default="127.0.0.1",
    show_default=True,
    help="Interface to listen on; 0.0.0.0 to share on the network (with --read-only).",
)
port_option = click.option(
    "--port",
    default=8501,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port to listen on.",
)


LOOPBACK = ("127.0.0.1", "::1", "localhost")


def _streamlit_argv(port: int, address: str, max_upload_mb: float) -> list[str]:
    return [
        sys.executable,
        "-m",
        "streamlit",
        "run",
        str(dashboard_settings.APP.resolve()),
        "--server.port",
        str(port),
        "--server.address",
        address,
        "--server.headless",
        "true",
        "--server.runOnSave",
        "false",
        "--server.fileWatcherType",
        "none",
        "--server.maxUploadSize",
        str(max(1, int(max_upload_mb + 0.999))),
        "--browser.gatherUsageStats",
        "false",
        "--theme.base",
        "light",
        "--client.toolbarMode",
        "minimal",  # no "Deploy" button: this is a team's own deployment
    ]


def run_dashboard(
    db: str, config_path: str | None, port: int, address: str, read_only: bool, max_upload_mb: float
) -> None:
    """Replace this process with the Streamlit server for the dashboard."""
    config = load_config(config_path)  # a bad config fails here, with its message, not in a page
    if config.access.auth == "proxy" and address not in LOOPBACK:
        raise click.UsageError(
            f'--address {address} with [dashboard] auth = "proxy" ({config.source}): '
            f"anyone reaching this port directly could send {config.access.user_header} and "
            "be whoever they say; listen on 127.0.0.1 and let only the sign-in proxy reach it "
            "(docs/deploy.md)"
        )
    path = Path(db).resolve()
    if not path.parent.is_dir():
        raise click.UsageError(f"--db {db}: folder {path.parent} does not exist")
    env = dict(os.environ)
    env["TIERWATCH_DB"] = str(path)
    if config_path:
        env["TIERWATCH_CONFIG"] = str(Path(config_path).resolve())
    else:
        env.pop("TIERWATCH_CONFIG", None)
    env[dashboard_settings.READ_ONLY_ENV] = "1" if read_only else ""
    env[dashboard_settings.MAX_UPLOAD_ENV] = str(max_upload_mb)
    click.echo(
        f"tierwatch dashboard on {path}: http://{address}:{port}/"
        + (" (read-only)" if read_only else ""),
        err=True,
    )
    sys.stdout.flush()
    sys.stderr.flush()
    argv = _streamlit_argv(port, address, max_upload_mb)
    os.execve(argv[0], argv, env)


@click.command()
@db_option
@config_option
@port_option
@address_option
@click.option(
    "--read-only",
    is_flag=True,
    envvar=dashboard_settings.READ_ONLY_ENV,
    help="Serve without any way to write: no upload, no flag editing, the store opened "
    f"read-only (for a shared deployment; env {dashboard_settings.READ_ONLY_ENV}=1).",
)
@click.option(
    "--max-upload-mb",
    type=click.FloatRange(min=1),
    envvar=dashboard_settings.MAX_UPLOAD_ENV,
    default=environment.default("max_upload_mb"),
    show_default=True,
    help=f"Largest file the Upload page accepts (env {dashboard_settings.MAX_UPLOAD_ENV}).",
)
def dashboard(db, config_path, port, address, read_only, max_upload_mb):
    """Browse routing health, upload logs and flag task types for re-tiering.

    Opens the Streamlit dashboard on the store at --db (it need not exist yet: the page
    offers to load the sample fleet or an upload). The dashboard holds the file only for
    the moment of each interaction, so `tierwatch ingest` works while it runs.
    """
    run_dashboard(db, config_path, port, address, read_only, max_upload_mb)


def _is_empty(db: str) -> bool:
    try:
        with open_store(db, read_only=True) as con:
            return con.execute("select count(*) from attempt_usage").fetchone()[0] == 0
    except StoreMissing:
        return True


@click.command()
@db_option
@config_option
@port_option
@address_option
def demo(db, config_path, port, address):
    """Load the sample fleet into --db (when it holds no logs yet) and open the dashboard.

    The sample is a simulated 30-day fleet with one planted case of each routing failure
    mode (docs/sample-data.md); its files are in sample_data/.
    """
    config = load_config(config_path)
    if _is_empty(db):
        click.echo(f"Loading the sample fleet into {db} …", err=True)
        report = load_sample(Path(db), config)
        for f in report.files:
            click.echo(
                f"  {Path(f.path).name}: {f.loaded:,} loaded, {f.duplicates:,} "
                f"duplicates, {f.rejected:,} rejected",
                err=True,
            )
        for path, error in report.errors:
            click.echo(f"  {path}: {error}", err=True)
    else:
        click.echo(
            f"{db} already holds logs; showing them (use a new --db for a fresh demo)", err=True
        )
    run_dashboard(db, config_path, port, address, False, environment.default("max_upload_mb"))


COMMANDS = [dashboard, demo]
