"""Whether calls reach the endpoint: a run nothing reaches stops at once; an outage mid-run is waited out."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from audit.vod.records import Answer, ApiError, CallResult

# Calls in a row that reach nothing (refused, no such name, no route, TLS): before any call reached
# the endpoint they stop the run; later they mean an outage. Enough that a few unlucky calls never do.
UNREACHABLE_AFTER = 8
PAUSE_FIRST, PAUSE_CAP = 1.0, 30.0  # seconds between probes of an endpoint that went away, doubling
# An outage longer than this is no longer waited out: calls count as the jobs' attempts again, so a
# run against an endpoint gone for good still ends, with its jobs' errors said.
OUTAGE_LIMIT = 300.0


class Reach:
    """Shared by a fetcher's workers. Once calls have reached the endpoint, a call that cannot connect
    is no attempt of its job; UNREACHABLE_AFTER of them in a row make an outage: the workers wait,
    one call at a time probes after a pause that doubles up to PAUSE_CAP, and the first call that
    reaches the endpoint lets them all go. An outage costs a few probes, not every job's retries."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._changed = threading.Condition()
        self._reached = False  # some call got through (any answer, any API error)
        self._streak = 0  # calls in a row that reached nothing
        self.unreachable: ApiError | None = None  # set when no call ever reached it: the run stops
        self._down_since: float | None = None
        self._pause = PAUSE_FIRST
        self._resume_at = 0.0
        self._prober: int | None = None  # the thread whose call is the probe
        self.pauses = 0  # outage pauses so far (for the run's statistics and tests)
        self.last_failure: ApiError | None = None  # the last call that reached nothing

    def nothing_reached(self) -> ApiError | None:
        """Once every call has ended: the last failure when calls were made and none of them reached
        the endpoint (a run of one job, whose retries end before UNREACHABLE_AFTER, included)."""
        with self._changed:
            if self.unreachable is None and not self._reached and self._streak:
                self.unreachable = self.last_failure
            return self.unreachable

    @property
    def failed_in_a_row(self) -> int:
        """Calls in a row that reached nothing."""
        return self._streak

    def before_call(self, stop: threading.Event | None) -> None:
        """Returns at once while the endpoint answers; during an outage, once its pause is over and
        this caller is the probe, or the outage has ended, lasted too long, or the run was stopped."""
        with self._changed:
            while self._down_since is not None and not (stop is not None and stop.is_set()):
                if self._too_long():
                    return
                wait = self._resume_at - self._clock()
                if wait <= 0 and self._prober is None:
                    self._prober = threading.get_ident()
                    return
                self._changed.wait(min(max(wait, 0.05), 0.25))

    def after_call(self, result: CallResult) -> bool:
        """Notes how a call went; True when it failed only because the endpoint is down (the caller
        asks again once it is back, and the call is not an attempt of its job)."""
        with self._changed:
            probe = self._prober == threading.get_ident()
            if probe:
                self._prober = None
            if isinstance(result, Answer) or not result.cannot_connect:
                self._reached, self._streak = True, 0
                if self._down_since is not None:
                    self._down_since, self._pause = None, PAUSE_FIRST
                    self._changed.notify_all()
                return False
            self._streak += 1
            self.last_failure = result
            if not self._reached:
                if self._streak >= UNREACHABLE_AFTER:
                    self.unreachable = self.unreachable or result
                return False
            now = self._clock()
            if self._down_since is None:
                if self._streak < UNREACHABLE_AFTER:
                    return True  # perhaps the start of an outage: asked again, not yet paused
                self._down_since = now
                self._pause_for(now)
            elif probe:
                self._pause = min(PAUSE_CAP, self._pause * 2)
                self._pause_for(now)
            return not self._too_long()

    @property
    def down(self) -> bool:
        """An outage is being waited out."""
        with self._changed:
            return self._down_since is not None

    def _pause_for(self, now: float) -> None:
        self.pauses += 1
        self._resume_at = now + self._pause
        self._changed.notify_all()

    def _too_long(self) -> bool:
        return self._down_since is not None and self._clock() - self._down_since > OUTAGE_LIMIT
