"""One formatter and linter (ruff), run with the tests."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def _tool(name: str) -> str:
    found = BIN / name
    return str(found) if found.exists() else shutil.which(name) or name


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=300)


def test_ruff_check():
    run = _run(_tool("ruff"), "check", ".")
    assert run.returncode == 0, run.stdout + run.stderr


def test_ruff_format():
    run = _run(_tool("ruff"), "format", "--check", ".")
    assert run.returncode == 0, run.stdout + run.stderr


# The layering contracts (import-linter) run on the installed layout: tests/test_package.py.
