"""What a route did, counted by outcome and published as metrics: a file rewritten at most once a second."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from audit.common.atomic import write_atomic
from audit.metrics.events import OUTCOMES, exposition

EVERY = 1.0  # seconds between two writes of the metrics file at most


class Tally:
    """Counts of one route (`http` or `queue`), safe to share between threads."""

    def __init__(
        self,
        route: str,
        metrics_file: Path | None = None,
        *,
        say: Callable[[str], None] = lambda line: None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.route = route
        self.counts = dict.fromkeys(OUTCOMES, 0)
        self._file = metrics_file
        self._say = say
        self._clock = clock
        self.started = clock()
        self.last_stored: float | None = None
        self._lock = threading.Lock()
        self._written = 0.0
        self._file_failed = False

    def count(self, outcome: str, n: int = 1) -> None:
        with self._lock:
            self.counts[outcome] += n
            now = self._clock()
            if outcome == "stored":
                self.last_stored = now
            due = self._file is not None and now - self._written >= EVERY
        if due:
            self.publish()

    def exposition(self) -> bytes:
        with self._lock:
            return exposition(self.route, self.counts, self.started, self.last_stored)

    def publish(self) -> None:
        """The metrics file rewritten whole now (temp file + rename); a failure is said once and
        never stops the route."""
        if self._file is None:
            return
        text = self.exposition()
        try:
            write_atomic(self._file, text)
            self._file_failed = False
        except OSError as exc:
            if not self._file_failed:
                self._say(f"the metrics file {self._file} could not be written: {exc.strerror or exc}")
            self._file_failed = True
        with self._lock:
            self._written = self._clock()

    def summary(self) -> str:
        """`5 stored, 1 duplicate, …`: the outcomes this route has (HTTP refuses, a queue rejects)."""
        shown = [o for o in self.counts if o != ("rejected" if self.route == "http" else "refused")]
        return ", ".join(f"{self.counts[o]} {o}" for o in shown)
