"""Opening an input file: gzip told from its first bytes, the bytes read on disk counted for
the progress bar, and what a file may hold bounded, so that no file can make a load's work or
memory grow past what its size promises.

Two bounds, both settings of tierwatch.toml (ingest/config.py):
- `max_gzip_expansion`: a .gz file may expand to at most this many times its size on disk
  (real logs compress 10-50x; a gzip bomb, 1,000x);
- `max_record_mb`: one record (a line of JSONL or of a request-per-line OTLP file, a CSV
  row) may be at most this long.
A breach is an InputLimit naming the file, where and the setting; nothing of the file is
stored.
"""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tierwatch.ingest.config import SETTINGS

Progress = Callable[[int], None]  # called with bytes read since the last call
MB = 1 << 20
EXPANSION_FLOOR = 64 * MB  # a small .gz may always expand this far


class InputLimit(Exception):
    """A file that holds more than its limits allow; the message says which and what to do."""


_DEFAULTS = {name: default for name, default, _ in SETTINGS}


@dataclass(frozen=True)
class Limits:
    """The two settings, by default their defaults in ingest/config.py's SETTINGS."""

    gzip_expansion: float = _DEFAULTS["max_gzip_expansion"]
    record_mb: float = _DEFAULTS["max_record_mb"]

    @property
    def record_bytes(self) -> int:
        return int(self.record_mb * MB)

    @classmethod
    def of(cls, settings: dict[str, float]) -> Limits:
        """The limits of a config's settings (Config.settings holds every setting)."""
        return cls(settings["max_gzip_expansion"], settings["max_record_mb"])

    def record_too_long(self, label: str, where: str) -> InputLimit:
        return InputLimit(
            f"{label}: {where} is longer than {self.record_mb:g} MB, the longest record "
            f"tierwatch reads (max_record_mb in tierwatch.toml); nothing of this file was "
            f"stored. Check that the file is newline-delimited, or raise max_record_mb"
        )


class _Counting(io.RawIOBase):
    """Counts the bytes read from the file on disk, for the progress bar."""

    def __init__(self, f, progress: Progress | None):
        self._f, self._progress = f, progress

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._f.read(len(b))
        n = len(data)
        b[:n] = data
        if self._progress and n:
            self._progress(n)
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


class _Bounded(io.RawIOBase):
    """A decompressed stream that refuses to yield more than `limit` bytes."""

    def __init__(self, f, limit: int, message: Callable[[], str]):
        self._f, self._limit, self._message, self._done = f, limit, message, 0

    def readable(self) -> bool:
        return True

    def readinto(self, b) -> int:
        data = self._f.read(len(b))
        n = len(data)
        self._done += n
        if self._done > self._limit:
            raise InputLimit(self._message())
        b[:n] = data
        return n

    def close(self) -> None:
        self._f.close()
        super().close()


def open_input(
    path: Path, progress: Progress | None = None, limits: Limits | None = None, label: str = ""
) -> io.BufferedReader:
    """The file's bytes, decompressed when it is gzip; InputLimit once a .gz expands past
    `limits.gzip_expansion` times its size (at least EXPANSION_FLOOR)."""
    limits = limits or Limits()
    raw = open(path, "rb")  # noqa: SIM115 - closed with the returned reader
    counted = io.BufferedReader(_Counting(raw, progress), buffer_size=MB)
    if counted.peek(2)[:2] != b"\x1f\x8b":
        return counted
    size = path.stat().st_size
    limit = max(int(size * limits.gzip_expansion), EXPANSION_FLOOR)
    name = label or str(path)

    def message() -> str:
        return (
            f"{name}: expands past {limit / MB:,.0f} MB, {limits.gzip_expansion:g} times its "
            f"{size / MB:,.1f} MB on disk, the most a .gz file may (max_gzip_expansion in "
            f"tierwatch.toml); nothing of this file was stored. A file that expands this "
            f"much is most often not a log (a gzip bomb); if it is one, raise "
            f"max_gzip_expansion or load it uncompressed"
        )

    unzipped = gzip.GzipFile(fileobj=counted, mode="rb")
    return io.BufferedReader(_Bounded(unzipped, limit, message), buffer_size=MB)
