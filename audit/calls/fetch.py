"""Retries with backoff, run-wide call counters, and the calls of many jobs through a pool (pool.py)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from audit.calls.pool import Pool, Sizer
from audit.calls.ratelimit import RateLimiter
from audit.calls.reach import UNREACHABLE_AFTER, Reach
from audit.common.errors import UserError
from audit.common.jobtypes import JobRef
from audit.vod.records import Answer, ApiError, CallResult, Fetched
from audit.vod.transport import WATCHDOG

T = TypeVar("T")
STOP_GRACE = 2.0  # seconds calls in flight may take to finish once a run is told to stop


class Caller(Protocol):
    def get_job_detail(self, job: JobRef) -> CallResult: ...


class NothingCanSucceed(UserError):
    """The run's first calls show that no call can succeed: the run stops at once with one line."""


class AuthenticationFailed(NothingCanSucceed):
    """The run's first calls were refused for their credentials: nothing can be audited."""


class Unreachable(NothingCanSucceed):
    """The endpoint could not be reached by any of the run's first calls."""


@dataclass(frozen=True, slots=True)
class CallStats:
    calls: int = 0
    retries: int = 0
    throttles: int = 0


class _Counters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.calls = self.retries = self.throttles = 0

    def add(self, *, calls: int = 0, retries: int = 0, throttles: int = 0) -> None:
        with self._lock:
            self.calls += calls
            self.retries += retries
            self.throttles += throttles

    def snapshot(self) -> CallStats:
        with self._lock:
            return CallStats(self.calls, self.retries, self.throttles)


def full_jitter(attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """AWS-style full jitter: uniform in [0, min(cap, base * 2**attempt)]."""
    return rng.uniform(0.0, min(cap, base * (2**attempt)))


class Fetcher:
    """Fetches jobs through a shared limiter with bounded retries and a per-job deadline."""

    def __init__(
        self,
        caller: Caller,
        limiter: RateLimiter,
        *,
        retries: int = 5,
        deadline: float = 120.0,
        backoff_base: float = 0.25,
        backoff_cap: float = 8.0,
        seed: int | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        ask: Callable[[JobRef], CallResult] | None = None,
    ) -> None:
        # What one attempt calls: GetJobDetail, or (discovery) another operation keyed the same way.
        self._ask = ask or caller.get_job_detail
        self._limiter = limiter
        self._retries = retries
        self._deadline = deadline
        self._base = backoff_base
        self._cap = backoff_cap
        self._rng = random.Random(seed)
        self._rng_lock = threading.Lock()
        self._clock = clock
        self._sleep = sleep
        self._counters = _Counters()
        self.reach = Reach(clock)

    @property
    def unreachable(self) -> ApiError | None:
        """Set once no call has reached the endpoint and enough in a row failed to connect."""
        return self.reach.unreachable

    @property
    def stats(self) -> CallStats:
        return self._counters.snapshot()

    def _backoff(self, attempt: int) -> float:
        with self._rng_lock:
            return full_jitter(attempt, self._base, self._cap, self._rng)

    def fetch_one(self, job: JobRef, stop: threading.Event | None = None) -> Fetched:
        """Calls until an answer, a final error, `retries` retries, the job's deadline, or `stop`."""
        give_up_at = self._clock() + self._deadline
        attempt = 0
        renewed = False
        while True:
            if self.unreachable is not None:  # nothing can succeed: no more calls, no retries
                return Fetched(job, self.unreachable, attempt + 1, datetime.now(UTC))
            self.reach.before_call(stop)  # during an outage: wait, one probe at a time
            self._limiter.acquire()
            result = self._ask(job)
            self._counters.add(calls=1, retries=1 if attempt else 0)
            if self.reach.after_call(result) and not (stop is not None and stop.is_set()):
                if not self.reach.down:  # a first failure to connect, or a few: a short wait
                    self._sleep(self._backoff(0))
                continue  # the endpoint is away, not this job: asked again once it is back
            if isinstance(result, Answer):
                self._limiter.on_success()
            elif result.throttled:
                self._counters.add(throttles=1)
                self._limiter.on_throttle()
            elif result.token_expired and not renewed:
                # The caller has renewed its credentials meanwhile: asked again once, not an attempt.
                renewed = True
                continue
            if isinstance(result, Answer) or not result.retryable or attempt >= self._retries:
                return Fetched(job, result, attempt + 1, datetime.now(UTC))
            pause = self._backoff(attempt)
            if self._clock() + pause >= give_up_at or (stop is not None and stop.is_set()):
                return Fetched(job, result, attempt + 1, datetime.now(UTC))
            self._sleep(pause)
            attempt += 1

    def fetch_many(
        self, jobs: Iterable[JobRef], *, concurrency: int = 8, stop: threading.Event | None = None
    ) -> Iterator[Fetched]:
        """Yields each job's result as it completes; see fetch_each."""
        return self.fetch_each(jobs, _unchanged, concurrency=concurrency, stop=stop)

    def fetch_each(
        self,
        jobs: Iterable[JobRef],
        finish: Callable[[Fetched], T],
        *,
        concurrency: int = 8,
        stop: threading.Event | None = None,
    ) -> Iterator[T]:
        """Yields `finish(result)` of each job as it completes; at most `concurrency` calls in flight.

        `finish` runs where the call was made (the consumer while it is the one caller, else the
        worker), so that judging and storing one answer overlaps the calls of the others instead of
        queueing behind one consumer thread. Stops scheduling when `stop` is set (calls in flight get
        STOP_GRACE seconds). Raises AuthenticationFailed when calls are refused for their credentials
        before any call has succeeded.
        """
        # Workers pull jobs and push results through one queue: per-job futures and `wait()` over
        # every call in flight cost more CPU than the call itself once the API answers quickly.
        concurrency = max(1, concurrency)
        sizer = Sizer(concurrency, lambda: self._counters.calls, lambda: self._limiter.rate)
        stop = stop or threading.Event()
        pool: Pool[T] = Pool(
            self.fetch_one,
            finish,
            iter(jobs),
            stop,
            concurrency,
            lambda: self.unreachable,
            sizer,
        )
        # With one call in flight at most, the collecting thread makes every call: no worker is needed.
        workers = [
            threading.Thread(target=pool.work, args=(n,), name=f"fetch-{n}")
            for n in range(concurrency if concurrency > 1 else 0)
        ]
        for worker in workers:
            worker.start()
        try:
            with WATCHDOG.cut_off(stop, STOP_GRACE):
                yield from pool.collect(len(workers))
        finally:
            pool.halt.set()
            for _ in workers:  # wakes any worker waiting for a slot, to see the halt
                pool.slots.release()
            pool.wake()  # and any waiting for its turn to call
            for worker in workers:
                worker.join()
        # Whatever the number of jobs: one job whose every attempt failed to connect is as
        # unreachable an endpoint as a thousand (issue #37), not a job `error` in a full report.
        unreachable = self.unreachable if stop.is_set() else self.reach.nothing_reached()
        if unreachable is not None:
            failed = min(self.reach.failed_in_a_row, UNREACHABLE_AFTER)
            raise Unreachable(
                f"{unreachable.message}; nothing was audited: no call reached the endpoint "
                f"({failed} in a row failed to connect)"
            )
        if pool.refused is not None:
            raise AuthenticationFailed(
                f"authentication failed, so nothing was audited: {pool.refused.describe()}; "
                "check the AccessKey ID and secret (and STS token), and the clock of this machine"
            )


def _unchanged(fetched: Fetched) -> Fetched:
    return fetched
