"""A thread-safe start-time limiter shared by every worker, with AIMD adaptation to throttling."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Never lets more than `qps` requests start in any window of one second (plus a safety margin).

    Starts are paced evenly at the current rate. A throttling answer cuts the rate multiplicatively
    (at most once per window, since one overload shows up in several in-flight replies); each success
    raises it additively, about `increase` requests/s per second, back up to `qps`. A window holds
    whole requests, so a fractional `qps` sustains only its integer part (at least one per window).
    """

    def __init__(
        self,
        qps: float,
        *,
        window: float = 1.0,
        margin: float = 0.02,
        decrease: float = 0.85,
        increase: float | None = None,
        min_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not qps > 0 or not math.isfinite(qps):
            raise ValueError("qps must be a positive number")
        self.qps = float(qps)
        self._window = window + margin  # the margin absorbs scheduling jitter between start and arrival
        self._decrease = decrease
        self._increase = self.qps * 0.01 if increase is None else increase
        self._min_rate = min(self.qps, max(0.2, self.qps * 0.05)) if min_rate is None else min_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = self.qps
        self._starts: deque[float] = deque(maxlen=math.ceil(self.qps) + 1)
        self._last_cut = -math.inf

    @property
    def rate(self) -> float:
        return self._rate

    def reserve(self) -> float:
        """Claims the earliest allowed start time (possibly in the future) and returns it."""
        with self._lock:
            now = self._clock()
            start = now
            if self._starts:
                start = max(start, self._starts[-1] + 1.0 / self._rate)
            allowed = max(1, math.floor(self._rate + 1e-9))
            if len(self._starts) >= allowed:
                start = max(start, self._starts[-allowed] + self._window)
            self._starts.append(start)
            return start

    def acquire(self) -> float:
        """Waits until this caller may start a request; returns the seconds waited."""
        delay = self.reserve() - self._clock()
        if delay > 0:
            self._sleep(delay)
        return max(0.0, delay)

    def on_success(self) -> None:
        with self._lock:
            if self._rate < self.qps:
                self._rate = min(self.qps, self._rate + self._increase / self._rate)

    def on_throttle(self) -> None:
        with self._lock:
            now = self._clock()
            if now - self._last_cut >= self._window:
                self._rate = max(self._min_rate, self._rate * self._decrease)
                self._last_cut = now
