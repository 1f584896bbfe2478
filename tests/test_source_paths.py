"""How a source mapping's dotted path finds a value in a LiteLLM or Langfuse record.

The rules (ingest/sources/records.py, `lookup`), worked by hand below: at each level the
rest of the path as one key first (a "" or null there is absent and ends that level), then
each split into a key and what remains, the longest key first; JSON text (CSV and psql
exports write nested values so) is read as JSON; `list:prefix` reads a tag from a list.

`lookup` walks paths compiled once per path; the property test holds it to the plain
recursive reading the mapping was first written as (kept here as `reference`), on records
made of keys that hold dots, nested JSON text, blanks and nulls.
"""

from __future__ import annotations

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from tierwatch.ingest.sources.records import lookup, pick


def reference(record, path: str):
    """The first implementation, re-deriving the splits at every call."""
    if ":" in path:
        name, prefix = path.split(":", 1)
        tags = reference(record, name)
        if isinstance(tags, str) and tags[:1] in "{[":
            tags = _loads(tags)
        if isinstance(tags, list):
            for t in tags:
                if isinstance(t, str) and t.startswith(prefix + ":"):
                    return t[len(prefix) + 1 :] or None
        return None
    if isinstance(record, str) and record[:1] in "{[":
        record = _loads(record)
    if not isinstance(record, dict):
        return None
    if path in record:
        v = record[path]
        return None if v == "" else v
    parts = path.split(".")
    for i in range(len(parts) - 1, 0, -1):
        head, rest = ".".join(parts[:i]), ".".join(parts[i:])
        if head in record:
            found = reference(record[head], rest)
            if found is not None:
                return found
    return None


def _loads(text: str):
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def test_nested_json_text_and_dotted_keys():
    # a psql export: metadata is JSON text, and the fleet's keys hold dots
    record = {
        "metadata": json.dumps(
            {"spend_logs_metadata": {"tierwatch.task.id": "t-7", "task_id": "other"}}
        ),
        "request_tags": '["env:prod", "taskName:extract"]',
    }
    assert lookup(record, "metadata.spend_logs_metadata.tierwatch.task.id") == "t-7"
    assert lookup(record, "metadata.spend_logs_metadata.task_id") == "other"
    assert lookup(record, "request_tags:taskName") == "extract"
    assert lookup(record, "request_tags:taskId") is None
    assert lookup(record, "metadata.absent") is None


def test_the_whole_key_first_and_the_longest_split_next():
    record = {"a.b.c": 1, "a.b": {"c": 2}, "a": {"b.c": 3, "b": {"c": 4}}}
    assert lookup(record, "a.b.c") == 1  # the rest as one key
    del record["a.b.c"]
    assert lookup(record, "a.b.c") == 2  # then the longest key, "a.b"
    del record["a.b"]
    assert lookup(record, "a.b.c") == 3  # then "a", and in it "b.c" as one key
    del record["a"]["b.c"]
    assert lookup(record, "a.b.c") == 4


def test_blank_and_null_are_absent():
    # "" under the whole key ends that level: the split "a" is not tried inside this node
    assert lookup({"a.b": "", "a": {"b": 5}}, "a.b") is None
    # but the level above goes on with its next split
    assert lookup({"x": {"a.b": ""}, "x.a": {"b": 6}}, "x.a.b") == 6
    assert lookup({"a": {"b": None}, "a.b": None}, "a.b") is None
    assert pick({"a": "", "b": 0}, ["a", "b"]) == 0  # 0 is a value, not absent


def test_lists_are_not_walked_and_bad_json_text_is_text():
    assert lookup({"a": [{"b": 1}]}, "a.b") is None
    assert lookup({"a": "{not json"}, "a.b") is None
    assert lookup({"a": "{not json"}, "a") == "{not json"


_keys = st.sampled_from(["a", "b", "c", "a.b", "b.c", "a.b.c", "x:y", ""])
_leaves = st.one_of(
    st.none(),
    st.just(""),
    st.integers(-3, 3),
    st.sampled_from(["v", "x:1", "y:", "[", "{bad"]),
    st.lists(st.sampled_from(["x:1", "y:2", "x:", 3]), max_size=3),
)


def _as_text(node):
    return st.one_of(st.just(node), st.just(json.dumps(node)))


_records = st.recursive(
    _leaves,
    lambda inner: st.dictionaries(_keys, inner, max_size=4).flatmap(_as_text),
    max_leaves=12,
)
_paths = st.one_of(
    st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4).map(".".join),
    st.sampled_from(["x:y", "a:x", "a.b:x", "b:y", "a.b.c", "a..b", ".a", "a."]),
)


@settings(max_examples=400, deadline=None)
@given(record=_records, path=_paths)
def test_compiled_paths_find_what_the_plain_reading_finds(record, path):
    assert lookup(record, path) == reference(record, path)
