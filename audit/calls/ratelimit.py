"""A thread-safe start-time limiter shared by every worker, adapting to throttling."""

from __future__ import annotations

import math
import threading
import time
from collections import deque
from collections.abc import Callable


class RateLimiter:
    """Never lets more than `qps` requests start in any window of one second (plus a safety margin).

    Starts are paced evenly at the current rate. A window holds whole requests, so a fractional `qps`
    sustains only its integer part (at least one per window).

    When the account's quota is shared, throttling answers say the rate is too high. The rate is then
    cut multiplicatively (at most once per window, since one overload shows up in several in-flight
    replies), and at once to what the service actually served in the last window when that is known.
    The rate at which throttling began is remembered: below 90% of it the rate climbs back quickly,
    near it only slowly, so the run settles just under what is left instead of sawing through it.
    """

    def __init__(
        self,
        qps: float,
        *,
        window: float = 1.0,
        margin: float = 0.02,
        decrease: float = 0.85,
        increase: float | None = None,
        probe: float | None = None,
        min_rate: float | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not qps > 0 or not math.isfinite(qps):
            raise ValueError("qps must be a positive number")
        self.qps = float(qps)
        self._window = window + margin  # the margin absorbs scheduling jitter between start and arrival
        self._decrease = decrease
        self._increase = self.qps * 0.05 if increase is None else increase  # requests/s gained per second
        self._probe = self.qps * 0.003 if probe is None else probe  # the same, near the throttling point
        self._min_rate = min(self.qps, max(0.2, self.qps * 0.05)) if min_rate is None else min_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._rate = self.qps
        self._ceiling: float | None = None
        # Each start as a one-item list, so that acquire can move it to when the caller really went.
        self._starts: deque[list[float]] = deque(maxlen=math.ceil(self.qps) + 1)
        self._served: deque[float] = deque()
        self._began: float | None = None
        self._last_cut = -math.inf

    @property
    def rate(self) -> float:
        return self._rate

    def reserve(self) -> float:
        """Claims the earliest allowed start time (possibly in the future) and returns it."""
        return self._reserve()[0]

    def _reserve(self) -> list[float]:
        with self._lock:
            now = self._clock()
            if self._began is None:
                self._began = now
            start = now
            if self._starts:
                start = max(start, self._starts[-1][0] + 1.0 / self._rate)
            allowed = max(1, math.floor(self._rate + 1e-9))
            if len(self._starts) >= allowed:
                start = max(start, self._starts[-allowed][0] + self._window)
            slot = [start]
            self._starts.append(slot)
            return slot

    def acquire(self) -> float:
        """Waits until this caller may start a request; returns the seconds waited.

        A caller that wakes late (a sleep overshooting under load, a thread kept from the GIL) has its
        start moved to when it really went: a window counted from the planned time would let a later
        request follow it within the second, and the service throttles by arrival.
        """
        slot = self._reserve()
        delay = slot[0] - self._clock()
        if delay > 0:
            self._sleep(delay)
        went = self._clock()
        if went > slot[0]:
            with self._lock:
                slot[0] = went
        return max(0.0, delay)

    def _served_recently(self, now: float) -> int:
        while self._served and now - self._served[0] > self._window:
            self._served.popleft()
        return len(self._served)

    def on_success(self) -> None:
        with self._lock:
            now = self._clock()
            self._served.append(now)
            self._served_recently(now)
            if self._rate < self.qps:
                near = self._ceiling is not None and self._rate >= 0.9 * self._ceiling
                step = self._probe if near else self._increase
                self._rate = min(self.qps, self._rate + step / self._rate)

    def on_throttle(self) -> None:
        with self._lock:
            now = self._clock()
            if now - self._last_cut < self._window:
                return
            self._last_cut = now
            target = self._rate * self._decrease
            served = self._served_recently(now)
            if self._began is not None and now - self._began >= self._window and served:
                # A full window of history: what was served is what is left of the quota.
                self._ceiling = float(served)
                target = min(target, served * 0.95)
            else:
                self._ceiling = self._rate
            self._rate = max(self._min_rate, target)
