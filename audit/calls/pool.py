"""The calls in flight of one fetch: who may call (the consumer itself, then worker threads), and when."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

from audit.common.jobtypes import JobRef
from audit.vod.records import Answer, ApiError, CallResult, Fetched

T = TypeVar("T")
LOOK_EVERY = 0.1  # seconds between the pool's looks at whether more calls in flight would help
BUSY = 0.5  # this process's CPU per second above which more threads would only share the GIL
REACHED = 0.9  # calls per second, as a share of the limiter's rate, at which the rate is reached
GATHER = 0.002  # seconds the consumer lets results gather when none is ready (well under a slot's worth)


class Sizer:
    """How many may call: as few as keep up, doubled while more would help.

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


class Pool(Generic[T]):
    """The jobs, the results and the stop conditions shared by the consumer and the worker threads.

    While one caller keeps up, the consumer makes the calls itself, and no result changes threads:
    against a fast server the hand-over from a worker to the consumer was a tenth of a run's CPU
    (bench/FINDINGS.md). Once the sizer lets more call, worker threads 0..active-1 take over and the
    consumer only collects."""

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

    def collect(self, workers: int) -> Iterator[T]:
        """Every result, until the jobs run out and the `workers` threads have ended."""
        while (job := self._own_job()) is not None:
            item = self._one(job)
            if item is not None:
                self.slots.release()
                yield item
        running = workers
        while running:
            self.look()
            if self.done.empty():
                # Nothing ready: a few results gather before the consumer wakes for them. Woken
                # for each one, it spent a fifth of its thread's CPU waking (bench/FINDINGS.md).
                time.sleep(GATHER)
            try:
                item_or_end = self.done.get(timeout=LOOK_EVERY)
            except queue.Empty:
                continue
            if item_or_end is None:
                running -= 1
            elif isinstance(item_or_end, BaseException):
                raise item_or_end
            else:
                self.slots.release()
                yield item_or_end

    def _own_job(self) -> JobRef | None:
        """The consumer's next job while it is the one caller; None once it is not (or none is left)."""
        self.look()
        return self._next() if self._sizer.active == 1 else None

    def look(self) -> None:
        """Lets more workers call when the sizer says more would help."""
        if self._sizer.look():
            self.wake()

    def wake(self) -> None:
        with self._turn:
            self._turn.notify_all()

    def _wait_turn(self, n: int) -> None:
        """Worker `n` calls only once the sizer lets more than the consumer call, and `n` of them."""
        with self._turn:
            while not (self._sizer.active > 1 and n < self._sizer.active) and not (
                self.halt.is_set() or self._stop.is_set() or self._drained
            ):
                self._turn.wait(0.5)

    def _next(self) -> JobRef | None:
        """A job to call, holding a slot; None (no slot held) when the calls are over."""
        self.slots.acquire()
        with self._take:
            job = None if self._stop.is_set() or self.halt.is_set() else next(self._jobs, None)
        if job is None:
            self.slots.release()  # the consumer's last look and each worker's would hold one too many
            if not self._drained:
                self._drained = True  # the workers still waiting for their turn have nothing to call
                self.wake()
        return job

    def _one(self, job: JobRef) -> T | None:
        """The job called and finished; None (its slot given back) for a call that is not a result."""
        fetched = self._fetch_one(job, self._stop)
        result = fetched.result
        # A call that failed once the run was told to stop says nothing about the job: it stays
        # unaudited (the run is reported incomplete), never an `error`.
        cut_off = self._stop.is_set() and not isinstance(result, Answer)
        if cut_off or self._refusal(result):
            self.slots.release()
            return None
        return self._finish(fetched)

    def work(self, n: int = 0) -> None:
        try:
            self._wait_turn(n)
            while (job := self._next()) is not None:
                item = self._one(job)
                if item is not None:
                    self.done.put(item)
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
