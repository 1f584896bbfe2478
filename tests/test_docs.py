"""Docs and code tested against each other: the log format page and the schema, CLI help."""

from __future__ import annotations

import re
from pathlib import Path

import click

from tierwatch.cli.main import main
from tierwatch.ingest import environment, validate
from tierwatch.ingest.config import SETTINGS

ROOT = Path(__file__).resolve().parent.parent
LOG_FORMAT = (ROOT / "docs" / "log-format.md").read_text(encoding="utf-8")


def _table_fields(section: str) -> list[str]:
    """Field names in the first column of the markdown table after `section`."""
    text = LOG_FORMAT.split(section, 1)[1]
    rows = []
    for line in text.splitlines()[1:]:
        if line.startswith("|"):
            rows.append(line)
        elif rows:
            break
    return [m.group(1) for r in rows if (m := re.match(r"\| `([a-z_]+)` \|", r))]


def test_required_and_optional_tables_equal_the_schema():
    schema = validate.schema()
    required = _table_fields("Required:")
    optional = _table_fields("Optional:")
    assert sorted(required) == sorted(schema["required"])
    assert sorted(required + optional) == sorted(schema["properties"])


def test_downstream_failure_table_equals_the_schema():
    documented = _table_fields("## Downstream-failure records")
    schema = validate.schema()["$defs"]["downstream_failure"]
    assert sorted(documented) == sorted(schema["properties"])


def test_every_setting_is_in_the_config_example():
    for name, _, _ in SETTINGS:
        assert re.search(rf"^{name} = ", LOG_FORMAT, re.M), name


def _commands() -> dict[str, click.Command]:
    ctx = click.Context(main)
    return {name: main.get_command(ctx, name) for name in main.list_commands(ctx)}


def test_every_command_module_is_listed_and_every_listed_command_is_found():
    from importlib import import_module

    from tierwatch.cli.main import COMMANDS

    folder = ROOT / "tierwatch" / "cli" / "commands"
    held = {
        command.name: path.stem
        for path in folder.glob("*.py")
        if path.stem != "__init__"
        for command in import_module(f"tierwatch.cli.commands.{path.stem}").COMMANDS
    }
    assert held == COMMANDS
    assert all(command is not None for command in _commands().values())


def test_every_command_and_option_has_help_text():
    for name, command in _commands().items():
        assert command.help and command.help.strip(), f"tierwatch {name} has no help"
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"tierwatch {name} {param.opts[0]} has no help"


def test_every_command_is_in_the_readme():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _commands():
        assert f"tierwatch {name}" in readme, name


def _readme_commands() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.+?)\n```", section)


def test_readme_gives_exactly_two_commands_and_ci_runs_the_test_one():
    main_command, test_command = _readme_commands()
    assert main_command.endswith("tierwatch demo")
    assert test_command.endswith("pytest")
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert test_command in ci.splitlines()


def test_the_settings_page_is_written_from_the_declarations():
    import importlib.util

    spec = importlib.util.spec_from_file_location("write_settings", ROOT / "docs/write_settings.py")
    writer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(writer)
    page = writer.PAGE.read_text(encoding="utf-8")
    assert writer.written(page) == page, "run: .venv/bin/python docs/write_settings.py"
    for name, _, _ in SETTINGS:  # each declaration has its row
        assert f"| `{name}` |" in page
    assert page.count("| `TIERWATCH_") == len(environment.SETTINGS)


def test_every_environment_variable_the_code_reads_is_declared():
    # a TIERWATCH_* name written anywhere in the code is a declared setting's variable
    declared = {s.variable for s in environment.SETTINGS}
    found = set()
    for room in ("tierwatch", "ingest", "queries", "dashboard"):
        for path in (ROOT / room).rglob("*.py"):
            found |= set(re.findall(r"TIERWATCH_[A-Z_]+", path.read_text(encoding="utf-8")))
    assert found <= declared, found - declared
