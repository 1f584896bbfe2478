"""The dashboard does not hold the DuckDB file while idle: with it running and a browser
session open, `tierwatch ingest` from another process succeeds, and the open page shows
the new rows on its next interaction."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

from test_browser import (
    TIERWATCH,
    browser_page,
    dashboard_server,
    require_chromium,
    sample_db,  # noqa: F401  (the module fixture)
    settle,
)


def shown_tasks(page) -> int:
    text = page.locator('[data-testid="stMain"]').inner_text()
    m = re.search(r"([\d,]+) tasks of \d+ task types", text)
    assert m, text[:500]
    return int(m.group(1).replace(",", ""))


def click_overview_until_the_count_changes(page, before: int) -> None:
    """The next interaction of the same session: open Overview, wait for a new count."""
    page.locator('[data-testid="stSidebarNav"]').get_by_text("Overview").click()
    page.wait_for_function(
        """(before) => {
            const m = document.querySelector('[data-testid="stMain"]').innerText
                .match(/([\\d,]+) tasks of \\d+ task types/);
            return m && parseInt(m[1].replace(/,/g, '')) !== before;
        }""",
        arg=before,
    )


def test_ingest_while_the_dashboard_is_open_then_the_page_shows_the_new_rows(
    sample_db,  # noqa: F811
    tmp_path,
):
    require_chromium()
    db = tmp_path / "locked.duckdb"
    shutil.copy(sample_db, db)
    new_logs = tmp_path / "late.jsonl"
    new_logs.write_text(
        "".join(
            json.dumps(
                {
                    "task_id": f"late-{i}",
                    "ts": "2026-10-02T12:00:00Z",
                    "task_type": "late_type",
                    "tier": "haiku",
                    "planner_tier": "haiku",
                    "input_tokens": 1000,
                    "output_tokens": 100,
                }
            )
            + "\n"
            for i in range(3)
        )
    )

    with dashboard_server(db) as url, browser_page() as page:
        # two sessions at once: each opens its own read-only connection while the other runs
        other = page.context.new_page()
        page.goto(url)
        other.goto(f"{url}/costs")
        for p in (page, other):
            p.wait_for_selector('[data-testid="stPlotlyChart"] .main-svg')
            settle(p)
            assert p.locator('[data-testid="stException"]').count() == 0
        other.close()
        before = shown_tasks(page)

        ingest = subprocess.run(
            [str(TIERWATCH), "ingest", str(new_logs), "--db", str(db)],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert ingest.returncode == 0, ingest.stderr
        assert "loaded 3" in ingest.stdout + ingest.stderr

        # the next interaction in the same session (not a new session) sees the new rows
        click_overview_until_the_count_changes(page, before)
        # 3 new tasks on 2026-10-02, after the last day shown so far: a selection of the
        # whole span follows the data to its new last day
        assert shown_tasks(page) == before + 3
