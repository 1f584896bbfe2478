"""The dashboard in a real browser: `tierwatch dashboard` on a free localhost port, driven by
Playwright on Debian's chromium. Visits every page, uploads a file, flags a task type,
reloads and sees the flag, and saves a screenshot of every page to SCREENSHOTS.

`docs/refresh_screenshots.py` copies the screenshots into docs/screenshots/.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import open_store

ROOT = Path(__file__).resolve().parent.parent
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = Path("/usr/bin/chromium")
TIERWATCH = Path(sys.executable).parent / "tierwatch"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
PAGES = [  # (url path, title on the page)
    ("", "Overview"),
    ("planner_tiers", "Planner tiers"),
    ("escalations", "Escalations"),
    ("costs", "Costs"),
    ("confidence", "Confidence"),
    ("drift", "Drift"),
    ("retiering", "Re-tiering"),
    ("whatif", "What-if"),
    ("upload", "Upload log files"),
]


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    message = f"{CHROMIUM} is missing: apt-get install chromium"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(health_url: str, proc, log, what: str) -> None:
    """Until `health_url` answers 200; its log's tail if `proc` dies or a minute passes."""
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(health_url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            log.flush()
            raise AssertionError(f"{what} did not start:\n" + Path(log.name).read_text()[-3000:])
        time.sleep(0.1)


@contextlib.contextmanager
def dashboard_server(db: Path, *extra: str) -> Iterator[str]:
    """`tierwatch dashboard --db db` on 127.0.0.1 and a free port; its base URL."""
    port = free_port()
    log = open(db.parent / f"dashboard-{port}.log", "w")  # noqa: SIM115
    proc = subprocess.Popen(
        [str(TIERWATCH), "dashboard", "--db", str(db), "--port", str(port), *extra],
        stdout=log,
        stderr=subprocess.STDOUT,
        cwd=db.parent,  # not the repo: no stray tierwatch.duckdb is used
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(f"{url}/_stcore/health", proc, log, "the dashboard")
        yield url
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@contextlib.contextmanager
def browser_page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 900})
            page = context.new_page()
            page.set_default_timeout(60_000)
            yield page
        finally:
            browser.close()


def settle(page) -> None:
    """Wait until Streamlit has finished running the script for what is on screen."""
    page.wait_for_selector('[data-testid="stMain"] h1')
    time.sleep(0.3)
    page.wait_for_function("""() => !document.querySelector('[data-testid="stStatusWidget"]')""")
    time.sleep(0.5)  # plotly draws after the script run ends


def assert_no_error(page) -> None:
    for kind in ("stException", "stAlertContentError"):
        errors = page.locator(f'[data-testid="{kind}"]')
        assert errors.count() == 0, errors.first.inner_text()


def screenshot(page, name: str) -> Path:
    """The whole page (Streamlit scrolls inside stMain, so grow the viewport to fit)."""
    height = page.evaluate(
        """() => document.querySelector('[data-testid="stMain"]').scrollHeight"""
    )
    page.set_viewport_size({"width": 1400, "height": min(max(900, height + 20), 8000)})
    time.sleep(0.8)  # charts resize to the new viewport
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path))
    page.set_viewport_size({"width": 1400, "height": 900})
    return path


def upload_in_browser(page, url: str, path: Path) -> None:
    """Load one file through the Upload page and wait for its report."""
    page.goto(f"{url}/upload")
    settle(page)
    page.locator('input[type="file"]').set_input_files(str(path))
    page.get_by_role("button", name="Load 1 file(s)").click()
    page.get_by_text("What was loaded").wait_for()
    settle(page)
    assert_no_error(page)


def flag_in_browser(page, task_type: str, tier: str) -> None:
    """Fill in the Re-tiering page's flag form (already open) for `task_type` and `tier`;
    the rest of the form (note, name) is the caller's."""
    open_selectbox(page, "Task type")
    page.get_by_role("option", name=task_type, exact=True).click()
    open_selectbox(page, "Target tier")
    page.get_by_role("option", name=tier).click()


def open_selectbox(page, label: str) -> None:
    """Open the selectbox labelled `label`. It is brought to the middle of the window first:
    the dropdown closes again when Playwright's own scroll-into-view moves the page under a
    click on a box at the window's bottom edge (Streamlit 1.67)."""
    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label)
    box.evaluate("e => e.scrollIntoView({block: 'center'})")
    time.sleep(0.3)
    box.click()


@pytest.fixture(scope="module")
def sample_db(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("browser") / "browser.duckdb"
    ingest_paths(db, sorted((ROOT / "sample_data").glob("*")), load_config(None))
    return db


def test_every_page_upload_and_a_flag_in_a_real_browser(sample_db, tmp_path):
    require_chromium()
    db = tmp_path / "dash.duckdb"
    shutil.copy(sample_db, db)
    upload = tmp_path / "new-fleet.jsonl"
    upload.write_text(
        json.dumps(
            {
                "task_id": "b-1",
                "ts": "2026-03-10T09:00:00Z",
                "task_type": "browser <i>upload</i>",
                "tier": "sonnet",
                "input_tokens": 100,
                "output_tokens": 10,
            }
        )
        + "\n"
        + '{"task_id": "b-2", "ts": "not a time", "task_type": "x", "tier": "haiku"}\n'
    )

    with dashboard_server(db) as url, browser_page() as page:
        for path, title in PAGES:
            page.goto(f"{url}/{path}")
            settle(page)
            if path not in ("retiering", "upload"):
                try:
                    page.wait_for_selector(
                        '[data-testid="stPlotlyChart"] .main-svg', timeout=20_000
                    )
                except Exception:
                    screenshot(page, f"failed-{path}")
                    raise AssertionError(f"no chart drawn on /{path}") from None
            assert page.locator("h1").first.inner_text().strip() == title
            assert_no_error(page)
            screenshot(page, path or "overview")

        # upload: one good record, one rejected with its line and field
        upload_in_browser(page, url, upload)
        screenshot(page, "upload-result")
        assert page.get_by_text("Rejected records", exact=True).count() == 1
        with open_store(db) as con:  # the page's table is a canvas; the ledger says the same
            ledger = con.execute(
                "select read, loaded, duplicates, rejected from ingested_files where path = ?",
                ["new-fleet.jsonl"],
            ).fetchall()
        assert ledger == [(2, 1, 0, 1)]  # line 2 has no valid ts: rejected

        # the new task type is in the filter at once, shown as text (not as <i>)
        page.goto(f"{url}/?task_type=browser%20%3Ci%3Eupload%3C%2Fi%3E")
        settle(page)
        assert_no_error(page)
        sidebar = page.locator('[data-testid="stSidebar"]').inner_text()
        assert "browser <i>upload</i>" in sidebar
        assert "1 tasks of 1 task types" in page.locator('[data-testid="stMain"]').inner_text()

        # flag the first task type for opus, reload, see it
        page.goto(f"{url}/retiering")
        settle(page)
        task_type = "html_extraction"  # one of the sample fleet's task types
        flag_in_browser(page, task_type, "opus")
        page.get_by_label("Your name").fill("browser test")
        page.get_by_label("Note (free text)").fill("checked in a <b>real</b> browser")
        page.get_by_role("button", name="Flag").click()
        success = page.locator('[data-testid="stAlertContentSuccess"]')
        assert success.inner_text() == f"Flagged {task_type!r} for opus."
        page.reload()
        settle(page)
        screenshot(page, "retiering-flagged")
        flagged = page.get_by_text(" → opus").first.inner_text()
        assert "browser test" in flagged
        assert page.get_by_text("checked in a <b>real</b> browser").count() >= 1
        assert flagged.startswith(f"{task_type} → opus")
        screenshot(page, "retiering-flagged")
    # and the server said nothing alarming while serving them (a table Arrow could not
    # convert once logged a traceback on the Re-tiering page)
    (log,) = tmp_path.glob("dashboard-*.log")
    text = log.read_text()
    assert "Traceback" not in text and "Arrow table was unsuccessful" not in text, text[-3000:]


def test_demo_loads_the_sample_fleet_into_an_empty_database_and_serves_it(tmp_path):
    db = tmp_path / "demo.duckdb"
    port = free_port()
    log = tmp_path / "demo.log"
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [str(TIERWATCH), "demo", "--db", str(db), "--port", str(port)],
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=tmp_path,
        )
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    with urllib.request.urlopen(
                        f"http://127.0.0.1:{port}/_stcore/health", timeout=2
                    ) as r:
                        if r.status == 200:
                            break
                except OSError:
                    pass
                assert proc.poll() is None, log.read_text()
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.3)
            # the running dashboard does not hold the file: a reader gets in
            with open_store(db) as con:
                files = con.execute("select count(*), sum(loaded) from ingested_files").fetchone()
            assert files[0] == len(list((ROOT / "sample_data").glob("*")))
            assert files[1] > 10_000
        finally:
            proc.terminate()
            proc.wait(timeout=15)
    assert "Loading the sample fleet" in log.read_text()


def test_dashboard_with_a_bad_config_says_so_and_exits_2(tmp_path):
    bad = tmp_path / "tierwatch.toml"
    bad.write_text("failure_cost_usd = -1\n")
    result = subprocess.run(
        [str(TIERWATCH), "dashboard", "--db", str(tmp_path / "x.duckdb"), "--config", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "failure_cost_usd is -1" in result.stderr
    assert "Traceback" not in result.stderr
