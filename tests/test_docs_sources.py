"""docs/sources.md and the mapping it documents are one: every fact of every source and
every named ladder appears in the page's tables with the names mapping.toml gives."""

from __future__ import annotations

from pathlib import Path

from tierwatch.ingest.config import named_ladders
from tierwatch.ingest.sources import default_mapping

DOC = (Path(__file__).resolve().parents[1] / "docs" / "sources.md").read_text()


def test_every_mapping_entry_is_documented():
    for source, entries in default_mapping().items():
        marker = f"<!-- mapping:{source} -->"
        assert marker in DOC, marker
        section = DOC[DOC.index(marker) :].split("\n\n", 1)[0]
        for fact, names in entries.items():
            row = next(
                (line for line in section.splitlines() if line.startswith(f"| {fact} ")), None
            )
            assert row is not None, f"{source}.{fact} missing from docs/sources.md"
            for name in names:
                assert f"`{name}`" in row, f"{source}.{fact}: {name} not in {row}"


def test_every_named_ladder_is_documented():
    section = DOC[DOC.index("<!-- ladders -->") :].split("\n\n", 1)[0]
    for name, tiers in named_ladders().items():
        row = next(line for line in section.splitlines() if line.startswith(f'| `"{name}"`'))
        for t in tiers:
            assert f"{t['name']} ({t['representative']})" in row
