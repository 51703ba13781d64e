"""One run at a time where two would spoil each other's work: a report folder, an audit's state.

A lock is a `Latch`: a file `flock` beside what it guards (never inside a report folder, which
holds one run's set and nothing else), or a backend's own (PostgreSQL's advisory locks,
audit.state.pglock). Either is released when its holder's process or session ends, however it ends,
so a run killed with SIGKILL leaves no lock that holds: the latch keeps the dead run's words, and
the next run that takes it says it took it over. A run that ends releases its lock and clears them.
"""

from __future__ import annotations

import fcntl
import json
import os
import socket
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Protocol

from audit.common.errors import UserError

LOOK_EVERY = 0.2  # seconds between tries while --wait-lock waits


@dataclass(frozen=True)
class Holder:
    """Who holds a lock: the run, where it runs, since when (UTC). Nothing secret."""

    run_id: str
    host: str
    pid: int
    since: str

    @classmethod
    def this_run(cls, run_id: str, since: str) -> Holder:
        return cls(run_id, socket.gethostname(), os.getpid(), since)

    @classmethod
    def parse(cls, text: str | bytes) -> Holder | None:
        """The holder a latch's words name, if they name one."""
        try:
            data = json.loads(text or b"null")
            return cls(str(data["run_id"]), str(data["host"]), int(data["pid"]), str(data["since"]))
        except (ValueError, TypeError, KeyError):
            return None

    def words(self) -> str:
        return json.dumps(asdict(self))

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {self.since})"


class Latch(Protocol):
    """A lock its holder's end releases, and the words of whoever took it last."""

    def open(self) -> None: ...  # raises UserError when the lock cannot be reached at all

    def take(self) -> bool: ...  # at once: True when taken

    def holder(self) -> Holder | None: ...  # the words left by the last taker

    def mark(self, holder: Holder | None) -> None: ...  # None clears them

    def close(self) -> None: ...  # releases the lock


class FileLatch:
    """An advisory `flock` on a small file, which holds its taker's words."""

    def __init__(self, path: Path, what: str) -> None:
        self.path, self._what = path, what
        self._handle = -1

    def open(self) -> None:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._handle = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise UserError(
                f"{self._what}: cannot write there (its lock {self.path}: {exc.strerror or exc})"
            ) from None

    def take(self) -> bool:
        try:
            fcntl.flock(self._handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True

    def holder(self) -> Holder | None:
        try:
            return Holder.parse(os.pread(self._handle, 4096, 0))
        except OSError:
            return None

    def mark(self, holder: Holder | None) -> None:
        os.ftruncate(self._handle, 0)
        os.pwrite(self._handle, holder.words().encode() if holder else b"", 0)
        os.fsync(self._handle)

    def close(self) -> None:
        if self._handle >= 0:
            os.close(self._handle)  # and with it the lock
            self._handle = -1


@contextmanager
def held(
    latch: Latch, me: Holder, what: str, *, wait: float = 0.0, say: Callable[[str], None] = lambda line: None
) -> Iterator[None]:
    """Holds `latch`, the lock of `what`, while the block runs. Taken at once, or within `wait`
    seconds; else a UserError that names the run holding it."""
    latch.open()
    try:
        _take(latch, what, time.monotonic() + wait, say)
        stale = latch.holder()
        if stale is not None:
            say(
                f"vod-audit: {what}: took over the lock of {stale.describe()}, which ended without releasing it"
            )
        latch.mark(me)
        try:
            yield
        finally:
            latch.mark(None)
    finally:
        latch.close()


def _take(latch: Latch, what: str, deadline: float, say: Callable[[str], None]) -> None:
    waiting = False
    while not latch.take():
        holder = latch.holder()
        who = holder.describe() if holder is not None else "another run"
        if time.monotonic() >= deadline:
            raise UserError(
                f"{what} is in use by {who}; nothing was audited (wait for it, or give --wait-lock 30m)"
            )
        if not waiting:
            say(f"vod-audit: {what} is in use by {who}: waiting for it (--wait-lock)")
            waiting = True
        time.sleep(LOOK_EVERY)
