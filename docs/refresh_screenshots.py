"""Copy the browser test's page screenshots into docs/screenshots/ for the README and docs.

    .venv/bin/python -m pytest tests/test_browser.py && .venv/bin/python docs/refresh_screenshots.py

The browser test (tests/test_browser.py) writes one PNG per page to
test-artifacts/screenshots/ (gitignored); this copies the ones the docs show, and says
which are missing or stale (older than an hour) instead of copying them.
"""

from __future__ import annotations

import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "test-artifacts" / "screenshots"
TARGET = ROOT / "docs" / "screenshots"
SHOWN = (
    "overview",
    "planner_tiers",
    "escalations",
    "costs",
    "confidence",
    "drift",
    "retiering",
    "whatif",
    "upload-result",
)
STALE_AFTER_S = 3600


def main() -> int:
    TARGET.mkdir(parents=True, exist_ok=True)
    problems = []
    for name in SHOWN:
        src = SOURCE / f"{name}.png"
        if not src.exists():
            problems.append(f"{src} is missing")
            continue
        if time.time() - src.stat().st_mtime > STALE_AFTER_S:
            problems.append(f"{src} is more than an hour old")
            continue
        shutil.copyfile(src, TARGET / src.name)
        print(f"copied {src.name}")
    for p in problems:
        print(
            f"not copied: {p}; run: .venv/bin/python -m pytest tests/test_browser.py",
            file=sys.stderr,
        )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
