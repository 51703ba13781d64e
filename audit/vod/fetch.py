"""Retries with backoff, run-wide call counters, and a bounded worker pool over the client."""

from __future__ import annotations

import queue
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, Protocol, TypeVar

from audit.errors import UserError
from audit.jobtypes import JobRef
from audit.vod.ratelimit import RateLimiter
from audit.vod.reach import UNREACHABLE_AFTER, Reach
from audit.vod.records import Answer, ApiError, CallResult
from audit.vod.transport import WATCHDOG

T = TypeVar("T")
STOP_GRACE = 2.0  # seconds calls in flight may take to finish once a run is told to stop
LOOK_EVERY = 0.1  # seconds between the pool's looks at whether more calls in flight would help
BUSY = 0.5  # this process's CPU per second above which more threads would only share the GIL
REACHED = 0.9  # calls per second, as a share of the limiter's rate, at which the rate is reached
GATHER = 0.002  # seconds the consumer lets results gather when none is ready (well under a slot's worth)


class Caller(Protocol):
    def get_job_detail(self, job: JobRef) -> CallResult: ...


class NothingCanSucceed(UserError):
    """The run's first calls show that no call can succeed: the run stops at once with one line."""


class AuthenticationFailed(NothingCanSucceed):
    """The run's first calls were refused for their credentials: nothing can be audited."""


class Unreachable(NothingCanSucceed):
    """The endpoint could not be reached by any of the run's first calls."""


@dataclass(frozen=True, slots=True)
class Fetched:
    """The final result for one job after retries."""

    job: JobRef
    result: CallResult
    attempts: int
    fetched_at: datetime


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

        `finish` runs on the worker that made the call, so that judging and storing one answer
        overlaps the calls of the others instead of queueing behind one consumer thread.
        Stops scheduling when `stop` is set (in-flight calls finish). Raises AuthenticationFailed
        when calls are refused for their credentials before any call has succeeded.
        """
        # Workers pull jobs and push results through one queue: per-job futures and `wait()` over
        # every call in flight cost more CPU than the call itself once the API answers quickly.
        concurrency = max(1, concurrency)
        sizer = Sizer(concurrency, lambda: self._counters.calls, lambda: self._limiter.rate)
        pool: _Pool[T] = _Pool(
            self.fetch_one,
            finish,
            iter(jobs),
            stop or threading.Event(),
            concurrency,
            lambda: self.unreachable,
            sizer,
        )
        workers = [
            threading.Thread(target=pool.work, args=(n,), name=f"fetch-{n}") for n in range(concurrency)
        ]
        for worker in workers:
            worker.start()
        try:
            running = len(workers)
            while running:
                pool.look()
                if pool.done.empty():
                    # Nothing ready: a few results gather before the consumer wakes for them. Woken
                    # for each one, it spent a fifth of its thread's CPU waking (bench/FINDINGS.md).
                    time.sleep(GATHER)
                try:
                    item = pool.done.get(timeout=LOOK_EVERY)
                except queue.Empty:
                    pool.cut_off_after_stop()
                    continue
                if item is None:
                    running -= 1
                elif isinstance(item, BaseException):
                    raise item
                else:
                    pool.slots.release()
                    yield item
        finally:
            pool.halt.set()
            pool.slots.release(len(workers))  # wakes any worker waiting for a slot, to see the halt
            pool.wake()  # and any waiting for its turn to call
            for worker in workers:
                worker.join()
        if self.unreachable is not None:
            raise Unreachable(
                f"{self.unreachable.message}; nothing was audited: no call reached the endpoint "
                f"({UNREACHABLE_AFTER} in a row failed to connect)"
            )
        if pool.refused is not None:
            raise AuthenticationFailed(
                f"authentication failed, so nothing was audited: {pool.refused.describe()}; "
                "check the AccessKey ID and secret (and STS token), and the clock of this machine"
            )


def _unchanged(fetched: Fetched) -> Fetched:
    return fetched


class Sizer:
    """How many of the workers may call: as few as keep up, doubled while more would help.

    More calls in flight help only while the calls wait on the network. Once the calls made per second
    reach the rate limiter's rate, more would only wait on it; once this process is busy most of each
    second, more threads only hand the GIL to each other: against a fast server, 16 workers cost a
    fifth more CPU than one for the same wall time (bench/FINDINGS.md). So the pool starts with one
    caller and doubles, at most every LOOK_EVERY seconds, while neither holds, up to `most` (a latency
    of 400 ms at 15 calls/s needs six: reached within a few tenths of a second)."""

    def __init__(
        self,
        most: int,
        calls: Callable[[], int],
        rate: Callable[[], float],
        *,
        clock: Callable[[], float] = time.monotonic,
        cpu: Callable[[], float] = time.process_time,
    ) -> None:
        self.most = most
        self.active = 1
        self._calls, self._rate = calls, rate
        self._clock, self._cpu = clock, cpu
        self._at, self._spent, self._made = clock(), cpu(), calls()

    def look(self) -> bool:
        """True when it let more callers call (called by the consumer; cheap when it is not time)."""
        now = self._clock()
        span = now - self._at
        if span < LOOK_EVERY or self.active >= self.most:
            return False
        spent, made = self._cpu(), self._calls()
        busy = (spent - self._spent) / span
        pace = (made - self._made) / span
        self._at, self._spent, self._made = now, spent, made
        if busy < BUSY and pace < REACHED * self._rate():
            self.active = min(self.most, self.active * 2)
            return True
        return False


class _Pool(Generic[T]):
    """The jobs, the results and the stop conditions shared by fetch_each's workers."""

    def __init__(
        self,
        fetch_one: Callable[[JobRef, threading.Event], Fetched],
        finish: Callable[[Fetched], T],
        jobs: Iterator[JobRef],
        stop: threading.Event,
        slots: int,
        unreachable: Callable[[], ApiError | None],
        sizer: Sizer,
    ) -> None:
        self._unreachable = unreachable
        self._sizer = sizer
        self._turn = threading.Condition()
        self._drained = False  # every job taken
        self._fetch_one = fetch_one
        self._finish = finish
        self._jobs = jobs
        self._take = threading.Lock()
        self._stop = stop
        self.halt = threading.Event()  # the consumer is gone, a worker failed, or calls were refused
        # A slot is a job taken and not yet handed to the consumer: a slow consumer holds the callers
        # back instead of letting answers pile up in memory.
        self.slots = threading.Semaphore(slots)
        self.done: queue.SimpleQueue[T | BaseException | None] = queue.SimpleQueue()
        self.refused: ApiError | None = None
        self._succeeded = False
        self._stopped_at: float | None = None

    def cut_off_after_stop(self) -> None:
        """Once `stop` has been set for STOP_GRACE seconds, ends the calls still in flight, so that a
        run told to stop does so within seconds whatever the server does (SIGTERM, Ctrl-C)."""
        if not self._stop.is_set():
            return
        now = time.monotonic()
        if self._stopped_at is None:
            self._stopped_at = now
        elif now - self._stopped_at >= STOP_GRACE:
            WATCHDOG.expire_all()

    def look(self) -> None:
        """Lets more workers call when the sizer says more would help."""
        if self._sizer.look():
            self.wake()

    def wake(self) -> None:
        with self._turn:
            self._turn.notify_all()

    def _wait_turn(self, n: int) -> None:
        """Worker `n` calls only once the sizer lets that many call (or the pool ends)."""
        with self._turn:
            while n >= self._sizer.active and not (
                self.halt.is_set() or self._stop.is_set() or self._drained
            ):
                self._turn.wait(0.5)

    def _next(self) -> JobRef | None:
        self.slots.acquire()
        with self._take:
            if self._stop.is_set() or self.halt.is_set():
                return None
            job = next(self._jobs, None)
        if job is None and not self._drained:
            self._drained = True  # the workers still waiting for their turn have nothing to call
            self.wake()
        return job

    def work(self, n: int = 0) -> None:
        try:
            self._wait_turn(n)
            while (job := self._next()) is not None:
                fetched = self._fetch_one(job, self._stop)
                # A call that failed once the run was told to stop says nothing about the job: it
                # stays unaudited (the run is reported incomplete), never an `error`.
                cut_off = self._stop.is_set() and not isinstance(fetched.result, Answer)
                if cut_off or self._refusal(fetched.result):
                    self.slots.release()
                else:
                    self.done.put(self._finish(fetched))
        except BaseException as exc:  # handed to the consumer, which re-raises it
            self.halt.set()
            self.done.put(exc)
        finally:
            self.done.put(None)

    def _refusal(self, result: CallResult) -> bool:
        """True for a credential refusal before any success, or an unreachable endpoint: the run's
        failure, not a job's result."""
        if self._unreachable() is not None:
            self.halt.set()
            return True
        with self._take:
            if isinstance(result, Answer):
                self._succeeded = True
            elif result.authentication and not self._succeeded:
                self.refused = self.refused or result
                self.halt.set()
                return True
            return False
