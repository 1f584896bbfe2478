"""Write docs/settings.md's two tables from the code's declarations of them.

    .venv/bin/python docs/write_settings.py

tests/test_docs.py fails when the page and the declarations differ.
"""

from __future__ import annotations

import re
from pathlib import Path

from tierwatch.ingest import environment
from tierwatch.ingest.config import SETTINGS

PAGE = Path(__file__).resolve().parent / "settings.md"


def tables() -> dict[str, str]:
    """The generated text between each pair of markers, by marker name."""
    env = ["| variable | default | what it does |", "|---|---|---|"]
    env += [
        f"| `{s.variable}` | {environment.shown(s.default)} | {s.help} |"
        for s in environment.SETTINGS
    ]
    toml = ["| setting | default | what it does |", "|---|---:|---|"]
    toml += [f"| `{name}` | {default:g} | {about} |" for name, default, about in SETTINGS]
    return {"environment": "\n".join(env), "toml": "\n".join(toml)}


def written(text: str) -> str:
    """`text` (the page) with each generated section replaced by its table."""
    for name, table in tables().items():
        text = re.sub(
            rf"(<!-- {name}: [^>]*-->\n).*?(<!-- end {name} -->)",
            lambda m, table=table: m.group(1) + table + "\n" + m.group(2),
            text,
            flags=re.S,
        )
    return text


if __name__ == "__main__":
    PAGE.write_text(written(PAGE.read_text(encoding="utf-8")), encoding="utf-8")
    print(f"wrote {PAGE}")
