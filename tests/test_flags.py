"""Re-tiering flags: history, current flag, unflag, validation, data_version bumps."""

from __future__ import annotations

import pytest

from tierwatch.ingest import flags
from tierwatch.ingest.config import load_config
from tierwatch.ingest.store import data_version, ensure_ladder, open_store, refresh_derived

HOSTILE = "clause 'risk' 50% -- drop table; 契約 🚀"


def _store(tmp_path, task_types=("html_extraction", HOSTILE)):
    """A store with one executor attempt per task type."""
    db = tmp_path / "flags.duckdb"
    with open_store(db, read_only=False) as con:
        ensure_ladder(con, load_config(None))
        for i, task_type in enumerate(task_types):
            con.execute(
                "insert into attempts (task_id, role, attempt, ts, task_type, tier, "
                "input_tokens, output_tokens, status, record_hash, file_id, line) values "
                "($id, 'executor', 1, timestamp '2026-03-01 10:00:00', $tt, 'haiku', 10, 5, "
                "'ok', $id, 1, $line)",
                {"id": f"t{i}", "tt": task_type, "line": i + 1},
            )
        con.execute("create temp table touched as select distinct task_id from attempts")
        refresh_derived(con)
    return db


def test_flag_then_unflag_keeps_history_and_bumps_version(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        v0 = data_version(con)
        flags.flag(
            con, HOSTILE, "Opus", flagged_by="ana", reason="fails 40% on haiku", note="<b>x</b>"
        )
        assert data_version(con) == v0 + 1
        current = flags.current_flags(con)
        assert list(current) == [HOSTILE]
        assert current[HOSTILE].target_tier == "opus"  # stored lower case, as the ladder
        assert current[HOSTILE].note == "<b>x</b>"  # kept as text, exactly

        flags.unflag(con, HOSTILE, flagged_by="bo", note="baseline ran fine")
        assert data_version(con) == v0 + 2
        assert flags.current_flags(con) == {}
        events = flags.history(con, HOSTILE)
        assert [e.action for e in events] == ["unflag", "flag"]  # newest first
        assert [e.flagged_by for e in events] == ["bo", "ana"]
        assert flags.history(con, "html_extraction") == []


def test_reflag_replaces_the_current_flag(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        flags.flag(con, "html_extraction", "sonnet", flagged_by="ana")
        flags.flag(con, "html_extraction", "haiku", flagged_by="ana", reason="was fine")
        assert flags.current_flags(con)["html_extraction"].target_tier == "haiku"
        assert len(flags.history(con)) == 2


def test_flags_survive_reopening_the_file(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        flags.flag(con, HOSTILE, "sonnet", flagged_by="ana")
    with open_store(db, read_only=True) as con:
        assert flags.current_flags(con)[HOSTILE].target_tier == "sonnet"


@pytest.mark.parametrize(
    "task_type, tier, who, message",
    [
        ("html_extraction", "gpt5", "ana", "not on the ladder"),
        ("no_such_type", "opus", "ana", "does not appear in the data"),
        ("html_extraction", "opus", "  ", "flagged_by is empty"),
        ("", "opus", "ana", "task type is empty"),
    ],
)
def test_bad_flags_are_refused_and_store_nothing(tmp_path, task_type, tier, who, message):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        v0 = data_version(con)
        with pytest.raises(flags.FlagError, match=message):
            flags.flag(con, task_type, tier, flagged_by=who)
        assert flags.history(con) == []
        assert data_version(con) == v0


def test_unflag_of_an_unflagged_type_is_refused(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        with pytest.raises(flags.FlagError, match="not flagged"):
            flags.unflag(con, "html_extraction", flagged_by="ana")


def test_overlong_note_is_refused(tmp_path):
    db = _store(tmp_path)
    with open_store(db, read_only=False) as con:
        with pytest.raises(flags.FlagError, match="keep it under"):
            flags.flag(con, "html_extraction", "opus", flagged_by="a", note="x" * 5000)
