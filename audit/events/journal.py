"""Event bodies appended durably, one compact JSON line each, to DIR/YYYY-MM-DD.jsonl (UTC), each once.

A line is written whole with one `write` to a file opened for appending, then fsynced before the
caller is told it is stored; a write that fails (a full disk, a file-size limit) is cut back to
where the file ended, so no half line is ever left for a reader. An identical body delivered again
is found in the day's file and not written twice (VOD retries a callback, and queues redeliver).
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

Stored = Literal["stored", "duplicate"]


class Journal:
    """The day files of one folder; safe to share between the threads of a receiver."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._seen: dict[str, set[bytes]] = {}  # day file -> digests of its lines

    @staticmethod
    def line_of(event: Any) -> bytes:
        """The body as the events source reads it: compact JSON on one line."""
        return json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"

    def append(self, event: Any, now: datetime | None = None) -> Stored:
        """Stores the event in today's file (UTC) unless it is there already; OSError when it cannot
        be stored, and then the file is as it was."""
        line = self.line_of(event)
        path = self.folder / f"{(now or datetime.now(UTC)):%Y-%m-%d}.jsonl"
        digest = hashlib.sha256(line).digest()
        with self._lock:
            seen = self._seen.get(path.name)
            if seen is None:  # a new day: yesterday's lines are no longer delivered to today's file
                self._seen = {path.name: self._read(path)}
                seen = self._seen[path.name]
            if digest in seen:
                return "duplicate"
            handle = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                end = os.fstat(handle).st_size
                try:
                    if os.write(handle, line) != len(line):
                        raise OSError("a short write")
                    os.fsync(handle)
                except OSError:
                    os.ftruncate(handle, end)  # no half line for a reader
                    raise
            finally:
                os.close(handle)
            seen.add(digest)
            return "stored"

    @staticmethod
    def _read(path: Path) -> set[bytes]:
        try:
            with path.open("rb") as lines:
                return {
                    hashlib.sha256(line if line.endswith(b"\n") else line + b"\n").digest() for line in lines
                }
        except FileNotFoundError:
            return set()
