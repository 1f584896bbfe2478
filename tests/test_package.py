"""The installed package: one import name, its data files, and the layering contracts.

The wheel is built from a copy of the tree (so no build/ or egg-info lands in the work
tree) and installed with pip into a target folder. The layering contracts are checked there,
not in the work tree: import-linter's grimp walks a package's folder, and in the work tree
tierwatch.ingest, tierwatch.queries and tierwatch.dashboard are the folders ingest/,
queries/ and dashboard/ beside tierwatch/ (setuptools' package-dir mapping), so walking
tierwatch/ would see only the command line and pass for want of anything to check.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROOMS = {"tierwatch": "tierwatch", "ingest": "tierwatch/ingest", "queries": "tierwatch/queries"}
ROOMS["dashboard"] = "tierwatch/dashboard"


def _run(*args, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(a) for a in args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    """(the wheel, the folder pip installed it into)."""
    work = tmp_path_factory.mktemp("package")
    src = work / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, src / name)
    for room in ROOMS:
        shutil.copytree(ROOT / room, src / room, ignore=shutil.ignore_patterns("__pycache__"))
    dist = work / "dist"
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    run = _run(*pip, "wheel", "--no-deps", "--no-build-isolation", "-w", dist, src, cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    (wheel,) = dist.glob("tierwatch-*.whl")
    site = work / "site"
    run = _run(*pip, "install", "--no-deps", "--target", site, wheel, cwd=work)
    assert run.returncode == 0, run.stdout + run.stderr
    return wheel, site


def _tree_files(room: str) -> set[str]:
    """Every file of a room in the work tree (tracked or not, caches aside), as installed."""
    out = set()
    for path in (ROOT / room).rglob("*"):
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
            out.add(f"{ROOMS[room]}/{path.relative_to(ROOT / room).as_posix()}")
    return out


def test_the_wheel_holds_only_tierwatch_and_every_file_of_its_rooms(built):
    wheel, _ = built
    names = set(zipfile.ZipFile(wheel).namelist())
    tops = {n.split("/")[0] for n in names}
    info = {t for t in tops if t.endswith(".dist-info")}
    assert tops - info == {"tierwatch"}, sorted(tops)
    expected = set().union(*(_tree_files(room) for room in ROOMS))
    assert expected - names == set(), "files of the tree missing from the wheel"
    assert names - expected - {n for n in names if n.split("/")[0] in info} == set()
    # the data files the code reads at run time (a sample of each kind, named by hand)
    for data in (
        "tierwatch/ingest/log_format_v1.schema.json",
        "tierwatch/ingest/ladders.toml",
        "tierwatch/ingest/migrations/001_init.sql",
        "tierwatch/ingest/sources/mapping.toml",
        "tierwatch/queries/failure_by_planner_tier.sql",
    ):
        assert data in names


def test_the_layering_contracts_hold_on_the_installed_layout(built):
    _, site = built
    env = {**os.environ, "PYTHONPATH": str(site)}
    linter = BIN / "lint-imports"
    run = _run(
        linter if linter.exists() else "lint-imports",
        "--config",
        ROOT / "pyproject.toml",
        cwd=site,
        env=env,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "Contracts: 2 kept, 0 broken" in run.stdout, run.stdout


def test_runs_beside_other_packages_named_queries_and_dashboard(built, tmp_path):
    _, site = built
    others = tmp_path / "others"
    for name in ("queries", "dashboard", "ingest"):  # e.g. the PyPI distributions so named
        (others / name).mkdir(parents=True)
        (others / name / "__init__.py").write_text("WHOSE = 'someone else'\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(others), str(site)])}
    probe = (
        "import queries, dashboard, tierwatch.queries, tierwatch.dashboard.columns;"
        "assert queries.WHOSE == dashboard.WHOSE == 'someone else';"
        f"assert tierwatch.queries.__file__.startswith({str(site)!r}), tierwatch.queries.__file__"
    )
    run = _run(sys.executable, "-c", probe, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr

    db = tmp_path / "fleet.duckdb"
    sample = ROOT / "sample_data" / "ops.csv"
    tw = [sys.executable, "-m", "tierwatch"]
    run = _run(*tw, "ingest", sample, "--db", db, cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    run = _run(*tw, "report", "summary", "--db", db, "--json", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stdout + run.stderr
    assert '"tasks"' in run.stdout
