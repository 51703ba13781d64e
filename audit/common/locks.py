"""One run at a time where two would spoil each other's work: a report folder, an audit's state.

A lock is an advisory `flock` on a small file beside what it guards (never inside a report folder,
which holds one run's set and nothing else). The kernel releases it when its process ends, however
it ends, so a run killed with SIGKILL leaves no lock that holds: the file keeps the dead run's
words, and the next run that takes the lock says it took it over. A run that ends releases its lock
and empties the file.
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

    def describe(self) -> str:
        return f"run {self.run_id} (pid {self.pid} on {self.host}, since {self.since})"


@contextmanager
def held(
    path: Path, me: Holder, what: str, *, wait: float = 0.0, say: Callable[[str], None] = lambda line: None
) -> Iterator[None]:
    """Holds the lock of `what` at `path` while the block runs. Taken at once, or within `wait`
    seconds; else a UserError that names the run holding it."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as exc:
        raise UserError(f"{what}: cannot write there (its lock {path}: {exc.strerror or exc})") from None
    try:
        _take(handle, what, time.monotonic() + wait, say)
        stale = _holder(handle)
        if stale is not None:
            say(
                f"vod-audit: {what}: took over the lock of {stale.describe()}, which ended without releasing it"
            )
        _write(handle, json.dumps(asdict(me)).encode())
        try:
            yield
        finally:
            _write(handle, b"")
    finally:
        os.close(handle)  # and with it the lock


def _take(handle: int, what: str, deadline: float, say: Callable[[str], None]) -> None:
    waiting = False
    while True:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            holder = _holder(handle)
            who = holder.describe() if holder is not None else "another run"
            if time.monotonic() >= deadline:
                raise UserError(
                    f"{what} is in use by {who}; nothing was audited (wait for it, or give --wait-lock 30m)"
                ) from None
            if not waiting:
                say(f"vod-audit: {what} is in use by {who}: waiting for it (--wait-lock)")
                waiting = True
            time.sleep(LOOK_EVERY)


def _holder(handle: int) -> Holder | None:
    """The run the lock file names, if it names one."""
    try:
        data = json.loads(os.pread(handle, 4096, 0) or b"null")
        return Holder(str(data["run_id"]), str(data["host"]), int(data["pid"]), str(data["since"]))
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write(handle: int, data: bytes) -> None:
    os.ftruncate(handle, 0)
    os.pwrite(handle, data, 0)
    os.fsync(handle)
