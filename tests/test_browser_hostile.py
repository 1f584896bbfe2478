"""A hostile store in a real browser (issue 12): every text field of the sample fleet carries
HTML, markdown images and links, a `javascript:` URL and right-to-left text, and so do a
flag's note and author, an uploaded file's name and a link's query parameters. Every page
is visited; a local listener counts the requests a visitor's browser makes to the outside
URLs the text names, and the test checks that none is made, that no image, link or frame
the text asks for is in the page, and that no dialog opens.
"""

from __future__ import annotations

import csv
import gzip
import http.server
import json
import shutil
import threading
import urllib.parse
from pathlib import Path

import pytest
from test_browser import (
    PAGES,
    ROOT,
    assert_no_error,
    browser_page,
    dashboard_server,
    require_chromium,
    screenshot,
    settle,
    upload_in_browser,
)

from tierwatch.ingest import flags
from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.store import open_store

FREE_TEXT = ("task_type", "fleet", "agent", "model", "confidence_source", "plan_id")


class _Counter(http.server.BaseHTTPRequestHandler):
    hits: list[str] = []

    def do_GET(self):  # noqa: N802 (the http.server name)
        _Counter.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def listener():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Counter)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


def hostile(value: str, where: str, outside: str) -> str:
    """`value` wrapped in every kind of markup a renderer might honour, each pointing at the
    listener (the path says which field it came from)."""
    return (
        f"![i]({outside}/md-{where}.png) [l]({outside}/link-{where}) "
        f'<img src="{outside}/html-{where}.png"> [j](javascript:alert(1)) '
        f":red[{value}] \u202e{value}\u202c"
    )


def _records(path: Path):
    if path.suffix == ".csv":
        with path.open(encoding="utf-8", newline="") as f:
            return list(csv.DictReader(f))
    with gzip.open(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


@pytest.fixture(scope="module")
def hostile_db(tmp_path_factory, listener) -> Path:
    """The sample fleet with every free-text field made hostile (the same value maps to
    the same hostile text, so the fleet's structure and findings stay), loaded through the
    real ingest; plus a flag with a hostile note and author."""
    tmp = tmp_path_factory.mktemp("hostile")
    out = tmp / "hostile.jsonl"
    with out.open("w", encoding="utf-8") as f:
        for path in sorted((ROOT / "sample_data").glob("*")):
            for r in _records(path):
                for field in (*FREE_TEXT, "detected_by"):
                    if r.get(field) not in (None, ""):
                        r[field] = hostile(r[field], field, listener)
                if path.suffix == ".csv":  # CSV cells are text: give JSON its types back
                    r = {k: v for k, v in r.items() if v != ""}
                    for k in ("input_tokens", "output_tokens", "attempt", "cached_input_tokens"):
                        if k in r:
                            r[k] = int(r[k])
                    for k in ("cost_usd", "latency_ms"):
                        if k in r:
                            r[k] = float(r[k])
                    if "confidence" in r:
                        try:
                            r["confidence"] = float(r["confidence"])
                        except ValueError:
                            pass
                    if "downstream_failure" in r:
                        r["downstream_failure"] = r["downstream_failure"].lower() == "true"
                f.write(json.dumps(r, ensure_ascii=False) + "\n")
    db = tmp / "hostile.duckdb"
    report = ingest_paths(db, [out], load_config(None))
    assert report.totals["rejected"] == 0 and report.totals["loaded"] > 10_000
    with open_store(db, read_only=False) as con:
        task_type = con.execute("select task_type from tasks limit 1").fetchone()[0]
        flags.flag(con, task_type, "opus", flagged_by=hostile("someone", "by", listener),
                   reason="other", note=hostile("a note", "note", listener))  # fmt: skip
    return db


def _injected(page, outside: str) -> list[str]:
    """Elements in the page that the hostile text asked for."""
    found = page.evaluate(
        """(outside) => {
            const bad = [];
            const media = 'img, image, iframe, source, video, audio';
            for (const el of document.querySelectorAll(media)) {
                const src = el.getAttribute('src') || el.getAttribute('href') || '';
                if (src.includes(outside) || src.includes('.png') && src.includes('md-')) {
                    bad.push(el.outerHTML.slice(0, 200));
                }
            }
            for (const a of document.querySelectorAll('a')) {
                const href = a.getAttribute('href') || '';
                if (href.startsWith('javascript:') || href.includes(outside)) {
                    const box = a.closest('[data-testid]');
                    const where = box ? box.getAttribute('data-testid') : '?';
                    bad.push(where + ': ' + a.outerHTML.slice(0, 200));
                }
            }
            return bad;
        }""",
        outside,
    )
    return found


def test_a_hostile_store_changes_nothing_outside_tierwatch(hostile_db, listener, tmp_path):
    require_chromium()
    db = tmp_path / "hostile.duckdb"
    shutil.copy(hostile_db, db)
    upload = tmp_path / "![u](u.png) <b>up [l](javascript:alert(1)).jsonl"  # no "/" in a name
    upload.write_text(
        json.dumps(
            {
                "task_id": "u-1",
                "ts": "2026-09-10T09:00:00Z",
                "task_type": hostile("uploaded", "upload", listener),
                "tier": "sonnet",
                "input_tokens": 100,
                "output_tokens": 10,
            }
        )
        + "\n"
        + '{"task_id": "u-2", "ts": "later", "task_type": "x", "tier": "haiku"}\n',
        encoding="utf-8",
    )
    _Counter.hits.clear()
    dialogs: list[str] = []
    with dashboard_server(db) as url, browser_page() as page:
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        fleet = hostile("x", "url", listener)
        visits = [f"{url}/{path}" for path, _ in PAGES] + [
            f"{url}/?fleet={urllib.parse.quote(fleet)}",
            f"{url}/whatif?move={urllib.parse.quote(fleet)}&to=opus",
        ]
        for visit in visits:
            page.goto(visit)
            settle(page)
            assert_no_error(page)
            assert _injected(page, listener) == [], visit
        screenshot(page, "hostile-whatif")
        # every page once more, with the text in view: the tables and charts drawn
        for path, _ in PAGES:
            page.goto(f"{url}/{path}")
            settle(page)
            page.mouse.wheel(0, 4000)
            page.wait_for_timeout(500)
            assert _injected(page, listener) == [], path
        page.goto(f"{url}/retiering")
        settle(page)
        screenshot(page, "hostile-retiering")
        # the note and the author show as the text they are
        main = page.locator('[data-testid="stMain"]').inner_text()
        assert "![i](" in main and "[j](javascript:alert(1))" in main

        upload_in_browser(page, url, upload)
        assert _injected(page, listener) == []
        assert page.locator('img[src*="u.png"]').count() == 0
        screenshot(page, "hostile-upload")
    assert _Counter.hits == [], _Counter.hits
    assert dialogs == []
