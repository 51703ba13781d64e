"""Progress of a run on stderr: a live bar on a terminal, a plain line every few seconds in CI."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from typing import TextIO

from audit.common.terminal import silence
from audit.common.timeutil import format_duration
from audit.results.record import JobResult


class Progress:
    def __init__(
        self,
        total: int,
        stream: TextIO,
        *,
        enabled: bool,
        live: bool,
        interval: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = total
        self.stream = stream
        self.enabled = enabled and total > 0
        self.live = live
        self.interval = interval if not live else 0.1
        self.clock = clock
        self.started = clock()
        self.done = 0
        self.fetched = 0
        self.counts: Counter[str] = Counter()
        self._last = -1e9

    def update(self, result: JobResult) -> None:
        self.done += 1
        self.fetched += 0 if result.from_state else 1
        self.counts[result.outcome.value] += 1
        now = self.clock()
        if self.enabled and (now - self._last >= self.interval or self.done == self.total):
            self._last = now
            self._draw(now)

    def line(self, now: float | None = None) -> str:
        now = self.clock() if now is None else now
        elapsed = max(now - self.started, 1e-9)
        rate = self.fetched / elapsed
        left = self.total - self.done
        eta = format_duration(left / rate) if rate > 0 and left else "-"
        counts = " ".join(f"{name} {n}" for name, n in sorted(self.counts.items()))
        return f"{self.done}/{self.total} {rate:.1f}/s ETA {eta}  {counts}"

    def _draw(self, now: float) -> None:
        if self.live:
            width = 24
            filled = int(width * self.done / self.total)
            self._write(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.line(now)}\x1b[K")
        else:
            self._write(f"progress: {self.line(now)}\n")

    def close(self) -> None:
        if self.enabled and self.live:
            self._write("\n")

    def _write(self, text: str) -> None:
        """Progress is a courtesy: a terminal that has gone (EIO after SIGHUP) ends it, never the run."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except OSError:
            self.enabled = False
            silence(self.stream)
