"""A LiteLLM file's calls folded in bounded memory (ingest/sources/spill.py), and each call
of a LiteLLM or Langfuse file once.

Past spill.HELD_CALLS calls a file's calls are sorted by task into runs on disk and merged
back a group of whole tasks at a time. The property test loads the same hostile spend-log
file twice, once held whole and once spilled every three calls, and requires the same
attempts, tasks, rejects and accounting (the record numbers in the `line` column count
the derived records in the order they are made, which spilling changes: tasks come in
task order, not in the order first met).
"""

from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_sources_otlp import rows
from test_sources_records import LANGFUSE

from tierwatch.ingest.config import load_config
from tierwatch.ingest.load import ingest_paths
from tierwatch.ingest.sources import spill
from tierwatch.ingest.sources.calls import Call

MODELS = ["claude-3-5-haiku-20241022", "claude-sonnet-4-5", "claude-opus-4-1"]


def _row(request_id, second, model, status, task=None, tokens=100):
    meta = {"spend_logs_metadata": {"task_id": task, "task_type": "triage"}} if task else {}
    return {
        "request_id": request_id,
        "startTime": f"2026-09-01 00:00:{second:02d}",
        "endTime": f"2026-09-01 00:00:{second + 1:02d}",
        "model": model,
        "spend": 0.001,
        "prompt_tokens": tokens,
        "completion_tokens": 10,
        "status": status,
        "metadata": meta,
    }


def _write(path, records, bad_lines=()):
    with path.open("w") as f:
        for r in records:
            f.write(json.dumps(r) + "\n")
        for b in bad_lines:
            f.write(b + "\n")


def test_a_request_logged_twice_in_one_file_is_one_call(tmp_path):
    # job-1: r1 fails on haiku, r2 answers on sonnet; job-2's r3 between them; r1 again at
    # the end (a log shipped twice); one line that is not JSON. Before, the second r1 was
    # folded into r1's attempt: 200 input tokens for a call that used 100.
    path = tmp_path / "spend.jsonl"
    _write(
        path,
        [
            _row("r1", 0, MODELS[0], "failure", "job-1"),
            _row("r3", 5, MODELS[0], "success", "job-2"),
            _row("r2", 10, MODELS[1], "success", "job-1"),
            _row("r1", 0, MODELS[0], "failure", "job-1"),
        ],
        ["{not json"],
    )
    f = ingest_paths(tmp_path / "t.duckdb", [str(path)], load_config(None)).files[0]
    # 5 lines read = 3 attempts loaded + 1 rejected + 1 skipped (r1 again)
    assert (f.read, f.loaded, f.duplicates, f.rejected, f.skipped) == (5, 3, 0, 1, 1)
    assert dict(f.skipped_kinds) == {"model calls delivered twice in this file": 1}
    assert rows(
        tmp_path / "t.duckdb",
        "select task_id, attempt, tier, input_tokens, escalation_reason from attempts "
        "order by task_id, attempt",
    ) == [
        ("job-1", 1, "haiku", 100, None),
        ("job-1", 2, "sonnet", 100, "error"),
        ("job-2", 1, "haiku", 100, None),
    ]


def test_a_langfuse_observation_exported_twice_is_one_call(tmp_path):
    # test_sources_records' page with generation g1 once more at the end. Its agent run a1
    # made g1 (1,000 input tokens) and g2 (1,500) on gpt-4.1-mini, then g3 (1,600) on
    # gpt-4.1: attempt 1 is 2,500 input tokens of two calls, not 3,500 of three.
    page = json.loads(json.dumps(LANGFUSE))
    page["data"].append(dict(page["data"][1]))
    path = tmp_path / "observations.json"
    path.write_text(json.dumps(page))
    cfg = tmp_path / "tierwatch.toml"
    cfg.write_text('ladder = "openai"\n')
    f = ingest_paths(tmp_path / "t.duckdb", [str(path)], load_config(cfg)).files[0]
    # 6 observations read = 2 attempts + 4 skipped: the agent, the tool, g2 folded into
    # g1's attempt, and g1 again
    assert (f.read, f.loaded, f.rejected, f.skipped) == (6, 2, 0, 4)
    assert f.skipped_kinds["model calls delivered twice in this file"] == 1
    assert rows(
        tmp_path / "t.duckdb",
        "select attempt, input_tokens, extra->>'$.\"source.calls\"' from attempts order by 1",
    ) == [(1, 2500, "2"), (2, 1600, "1")]


def _calls(n: int, task: str, start: float) -> list[Call]:
    return [
        Call(
            locator=f"line {i}",
            call_id=f"{task}-c{i}",
            task_key=task,
            run_key=f"{task}-c{i}",
            start=start - i,
        )
        for i in range(n)
    ]


def test_spilled_calls_come_back_task_by_task_in_call_order(monkeypatch):
    monkeypatch.setattr(spill, "GROUP_CALLS", 2)
    monkeypatch.setattr(spill, "BLOCK_CALLS", 2)
    monkeypatch.setattr(spill, "HELD_CALLS", 3)
    by_task = spill.CallsByTask()
    a, b, c = _calls(3, "a", 10.0), _calls(2, "b", 5.0), _calls(1, "c", 1.0)
    for call in [a[0], b[0], c[0], a[1], b[1], a[2]]:  # interleaved, as a log has them
        by_task.add(call)
    assert by_task.spilled
    groups = list(by_task.groups())
    # each group ends at a task's last call once it holds at least 2; calls by start
    assert [[x.call_id for x in g] for g in groups] == [
        ["a-c2", "a-c1", "a-c0"],
        ["b-c1", "b-c0"],
        ["c-c0"],
    ]
    assert not by_task.runs  # the runs on disk are closed once read


_tasks = st.sampled_from(["job-0", "job-1", "job-2", None])
_call = st.tuples(
    st.integers(0, 11),  # request id r0..r11: a repeated one is the same call again
    st.integers(0, 8),  # start second: ties between calls happen
    st.integers(0, 2),  # model
    st.sampled_from(["success", "failure"]),
    _tasks,
    st.sampled_from([100, 250, -5]),  # negative tokens are rejected, naming the field
)


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(calls=st.lists(_call, min_size=1, max_size=14), bad=st.booleans())
def test_a_spilled_file_loads_as_the_file_held_whole(tmp_path_factory, monkeypatch, calls, bad):
    tmp = tmp_path_factory.mktemp("spill")
    path = tmp / "spend.jsonl"
    _write(
        path,
        [_row(f"r{i}", s, MODELS[m], st_, t, tok) for i, s, m, st_, t, tok in calls],
        ["{not json"] if bad else [],
    )
    whole = _load(tmp / "whole.duckdb", path)
    spills = []
    real = spill.CallsByTask._spill
    with monkeypatch.context() as m:
        m.setattr(spill, "HELD_CALLS", 3)
        m.setattr(spill, "GROUP_CALLS", 2)
        m.setattr(spill, "BLOCK_CALLS", 2)
        m.setattr(spill.CallsByTask, "_spill", lambda self: spills.append(1) or real(self))
        spilled = _load(tmp / "spilled.duckdb", path)
    assert bool(spills) == (len(calls) >= 3)
    assert spilled == whole


def _load(db, path):
    f = ingest_paths(db, [str(path)], load_config(None)).files[0]
    return {
        "accounting": (f.read, f.loaded, f.duplicates, f.rejected, f.skipped),
        "skipped": dict(f.skipped_kinds),
        "attempts": rows(db, "select * exclude (line) from attempts order by all"),
        "tasks": rows(db, "select * from tasks order by task_id"),
        "rejects": rows(db, "select field, reason, raw, locator from rejects order by all"),
    }
