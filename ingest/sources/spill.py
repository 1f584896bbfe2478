"""A file's model calls given back task by task, in bounded memory.

A LiteLLM log is read a record at a time, but a task's calls may sit anywhere in the file
(a fallback logged minutes after the call it replaced, a session spread over a day), and
they are folded into attempts together. Up to HELD_CALLS calls are simply held. Past
that, the held calls are sorted by task and written to a temporary file as a sorted run,
and the runs are merged back, so that memory holds a block of each run, not the file: a
spend-log export of tens of millions of calls loads on a machine that could not hold its
calls (0.8 KB each as Python objects).
"""

from __future__ import annotations

import heapq
import itertools
import pickle
import tempfile
from collections.abc import Iterator
from dataclasses import fields
from typing import IO

from tierwatch.ingest.sources.calls import Call

HELD_CALLS = 500_000  # calls held in memory before they are spilled as a sorted run
BLOCK_CALLS = 2_000  # calls written (and read back) at a time, per run
GROUP_CALLS = 50_000  # calls of whole tasks handed on at a time, once spilled

_FIELDS = tuple(f.name for f in fields(Call))


def _key(c: Call) -> tuple:
    """A task's calls together, in the order sources number them (Call.order)."""
    return (*c.task, *c.order())


class CallsByTask:
    """Calls added one by one; `groups()` gives them back as lists of whole tasks."""

    def __init__(self) -> None:
        self.held: list[Call] = []
        self.runs: list[IO[bytes]] = []

    def add(self, call: Call) -> None:
        self.held.append(call)
        if len(self.held) >= HELD_CALLS:
            self._spill()

    @property
    def spilled(self) -> bool:
        return bool(self.runs)

    def _spill(self) -> None:
        self.held.sort(key=_key)
        run = tempfile.TemporaryFile(prefix="tierwatch-calls-")
        for i in range(0, len(self.held), BLOCK_CALLS):
            block = [tuple(getattr(c, f) for f in _FIELDS) for c in self.held[i : i + BLOCK_CALLS]]
            pickle.dump(block, run, protocol=pickle.HIGHEST_PROTOCOL)
        run.seek(0)
        self.runs.append(run)
        self.held = []

    def groups(self) -> Iterator[list[Call]]:
        """Never spilled: every call at once, in the order read (a task's attempts are made
        as if the file were whole, which it is). Spilled: lists of about GROUP_CALLS calls,
        each task's calls in one list only, tasks in order of (task id, role)."""
        if not self.runs:
            if self.held:
                yield self.held
            return
        self.held.sort(key=_key)
        merged = heapq.merge(*(_read(run) for run in self.runs), iter(self.held), key=_key)
        group: list[Call] = []
        for _, calls in itertools.groupby(merged, key=lambda c: c.task):
            group.extend(calls)
            if len(group) >= GROUP_CALLS:
                yield group
                group = []
        if group:
            yield group
        self.close()

    def close(self) -> None:
        for run in self.runs:
            run.close()
        self.runs, self.held = [], []


def _read(run: IO[bytes]) -> Iterator[Call]:
    while True:
        try:
            block = pickle.load(run)
        except EOFError:
            return
        for values in block:
            yield Call(*values)
