"""Answers committed to state in batches: one transaction per few hundred rows or a quarter second."""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

ROWS = 256  # answers in one transaction at most
AGE = 0.25  # seconds an answer waits for its commit at most: what a SIGKILL may make a run ask again

Row = tuple[object, ...]


class Batch:
    """Rows waiting for one commit. One commit per answer was an eighth of a fast run's CPU; batched,
    a SIGTERM still loses none (the run commits what is pending before it ends) and a SIGKILL loses
    at most the last ROWS answers or AGE seconds of them, which the next run asks for again."""

    def __init__(
        self, commit: Callable[[Sequence[Row]], None], *, age: float = AGE, rows: int = ROWS
    ) -> None:
        self._commit = commit  # called under the batch's lock, with the rows in the order added
        self._age, self._rows = age, rows
        self._lock = threading.Lock()
        self._pending: list[Row] = []
        self._closed = threading.Event()
        self._timer: threading.Thread | None = None

    def add(self, row: Row) -> None:
        with self._lock:
            self._pending.append(row)
            if len(self._pending) >= self._rows:
                self._flush()
            elif self._timer is None and not self._closed.is_set():
                # The clock that commits what waits while answers come slowly (an outage, a slow API).
                self._timer = threading.Thread(target=self._tick, name="state-commits", daemon=True)
                self._timer.start()

    def flush(self) -> None:
        """Commits whatever is pending now."""
        with self._lock:
            self._flush()

    def close(self) -> None:
        """Commits what is pending and stops the clock."""
        self._closed.set()
        if self._timer is not None:
            self._timer.join()
        self.flush()

    def _flush(self) -> None:
        if self._pending:
            rows, self._pending = self._pending, []
            self._commit(rows)

    def _tick(self) -> None:
        while not self._closed.wait(self._age):
            self.flush()
