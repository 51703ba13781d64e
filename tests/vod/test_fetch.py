"""Retries, counters, the auth stop and the worker pool, over a scripted caller."""

from __future__ import annotations

import threading
import time

import pytest

from audit.calls.fetch import STOP_GRACE, AuthenticationFailed, Fetcher, full_jitter
from audit.calls.pool import LOOK_EVERY, Sizer
from audit.calls.ratelimit import RateLimiter
from audit.common.jobtypes import JobRef
from audit.vod.records import Answer, ApiError

THROTTLED = ApiError("api", "Throttling.User", "slow down", 400, "R")
INTERNAL = ApiError("api", "InternalError", "oops", 500, "R")
DENIED = ApiError("api", "SignatureDoesNotMatch", "bad", 400, "R")
PARAM = ApiError("api", "MissingParameter", "JobId", 400, "R")


class Scripted:
    """Answers each job with its script of results, one per attempt; then an Answer."""

    def __init__(self, scripts):
        self.scripts = {job: list(results) for job, results in scripts.items()}
        self.calls: list[JobRef] = []
        self.lock = threading.Lock()

    def get_job_detail(self, job):
        with self.lock:
            self.calls.append(job)
            script = self.scripts.get(job, [])
            return script.pop(0) if script else Answer({"RequestId": "R", "JobType": job.job_type})


def fetcher(caller, retries=3, **kwargs):
    limiter = RateLimiter(1000, sleep=lambda s: None)
    return Fetcher(caller, limiter, retries=retries, sleep=lambda s: None, seed=1, **kwargs)


def test_retryable_errors_are_retried_and_counted():
    job = JobRef("ai", "a")
    caller = Scripted({job: [THROTTLED, INTERNAL]})
    f = fetcher(caller)
    fetched = f.fetch_one(job)
    assert isinstance(fetched.result, Answer) and fetched.attempts == 3
    assert (f.stats.calls, f.stats.retries, f.stats.throttles) == (3, 2, 1)


def test_retries_are_bounded():
    job = JobRef("ai", "a")
    caller = Scripted({job: [INTERNAL] * 10})
    f = fetcher(caller, retries=2)
    fetched = f.fetch_one(job)
    assert fetched.result == INTERNAL and fetched.attempts == 3 and len(caller.calls) == 3


def test_final_errors_are_not_retried():
    job = JobRef("ai", "a")
    f = fetcher(Scripted({job: [PARAM]}))
    assert f.fetch_one(job).attempts == 1


def test_deadline_stops_retrying():
    job = JobRef("ai", "a")
    now = [0.0]
    f = Fetcher(
        Scripted({job: [INTERNAL] * 10}),
        RateLimiter(1000, sleep=lambda s: None),
        retries=9,
        deadline=1.0,
        backoff_base=0.4,
        seed=3,
        clock=lambda: now[0],
        sleep=lambda s: now.__setitem__(0, now[0] + s),
    )
    fetched = f.fetch_one(job)
    assert fetched.result == INTERNAL and fetched.attempts < 10
    assert now[0] < 1.0


def test_full_jitter_is_bounded():
    import random

    rng = random.Random(0)
    for attempt in range(12):
        for _ in range(50):
            assert 0 <= full_jitter(attempt, 0.25, 8.0, rng) <= min(8.0, 0.25 * 2**attempt)


def test_fetch_many_yields_every_job_once():
    jobs = [JobRef("transcode", f"j{i}") for i in range(200)]
    caller = Scripted({jobs[3]: [INTERNAL], jobs[7]: [PARAM]})
    results = list(fetcher(caller).fetch_many(jobs, concurrency=8))
    assert sorted(r.job.job_id for r in results) == sorted(j.job_id for j in jobs)
    assert len(caller.calls) == 201


def test_first_calls_refused_stop_the_run_with_one_error():
    jobs = [JobRef("ai", f"j{i}") for i in range(100)]
    caller = Scripted({job: [DENIED] for job in jobs})
    with pytest.raises(AuthenticationFailed, match="SignatureDoesNotMatch"):
        list(fetcher(caller).fetch_many(jobs, concurrency=4))
    assert len(caller.calls) <= 8  # it stopped scheduling instead of failing 100 times


def test_stop_event_stops_scheduling():
    jobs = [JobRef("ai", f"j{i}") for i in range(100)]
    stop = threading.Event()
    seen = []
    for fetched in fetcher(Scripted({})).fetch_many(jobs, concurrency=2, stop=stop):
        seen.append(fetched)
        if len(seen) == 10:
            stop.set()
    assert 10 <= len(seen) <= 12


def test_a_slow_consumer_holds_the_callers_back():
    jobs = [JobRef("ai", f"j{i}") for i in range(100)]
    caller = Scripted({})
    ahead = []
    for consumed, _ in enumerate(fetcher(caller).fetch_many(jobs, concurrency=4), start=1):
        ahead.append(len(caller.calls) - consumed)
    assert max(ahead) <= 4  # answers never pile up beyond the calls allowed in flight


def test_closing_the_iterator_stops_the_workers():
    jobs = [JobRef("ai", f"j{i}") for i in range(1000)]
    caller = Scripted({})
    results = fetcher(caller).fetch_many(jobs, concurrency=4)
    assert [next(results) for _ in range(5)]
    results.close()
    assert len(caller.calls) <= 5 + 4
    assert not [t for t in threading.enumerate() if t.name.startswith("fetch-")]


def test_a_failure_inside_a_worker_reaches_the_consumer():
    class Broken(Scripted):
        def get_job_detail(self, job):
            if job.job_id == "j7":
                raise RuntimeError("bug in the caller")
            return super().get_job_detail(job)

    jobs = [JobRef("ai", f"j{i}") for i in range(50)]
    with pytest.raises(RuntimeError, match="bug in the caller"):
        list(fetcher(Broken({})).fetch_many(jobs, concurrency=3))
    assert not [t for t in threading.enumerate() if t.name.startswith("fetch-")]


class Threads(Scripted):
    """Remembers which thread made each call."""

    def __init__(self, scripts, wait=0.0):
        super().__init__(scripts)
        self.wait, self.by = wait, {}

    def get_job_detail(self, job):
        self.by[job.job_id] = threading.current_thread().name
        time.sleep(self.wait)  # the network's time, not this process's
        return super().get_job_detail(job)


@pytest.mark.parametrize("wait", [0.0, 0.02], ids=["fast", "waiting"])
def test_fetch_each_finishes_each_answer_on_the_thread_that_fetched_it(wait):
    jobs = [JobRef("ai", f"j{i}") for i in range(40)]
    caller = Threads({}, wait)
    finished = list(
        fetcher(caller).fetch_each(
            jobs, lambda f: (f.job.job_id, threading.current_thread().name), concurrency=3
        )
    )
    assert sorted(job_id for job_id, _ in finished) == sorted(j.job_id for j in jobs)
    assert all(caller.by[job_id] == thread for job_id, thread in finished)
    assert {thread for _, thread in finished} <= {
        threading.current_thread().name,
        "fetch-0",
        "fetch-1",
        "fetch-2",
    }


def test_while_one_caller_keeps_up_the_consumer_makes_every_call_itself():
    # A server that answers at once: no result has to change threads (a tenth of a fast run's CPU).
    jobs = [JobRef("ai", f"j{i}") for i in range(200)]
    caller = Threads({})
    assert len(list(fetcher(caller).fetch_many(jobs, concurrency=8))) == 200
    assert set(caller.by.values()) == {threading.current_thread().name}


def test_one_call_in_flight_needs_no_worker_thread():
    jobs = [JobRef("ai", f"j{i}") for i in range(30)]
    caller = Threads({}, wait=0.01)  # calls that wait would bring workers in, were any allowed
    seen = []
    for fetched in fetcher(caller).fetch_many(jobs, concurrency=1):
        seen.append(fetched.job.job_id)
        assert not [t for t in threading.enumerate() if t.name.startswith("fetch-")]
    assert sorted(seen) == sorted(j.job_id for j in jobs)
    assert set(caller.by.values()) == {threading.current_thread().name}


def test_calls_that_wait_on_the_network_are_handed_to_the_workers():
    jobs = [JobRef("ai", f"j{i}") for i in range(150)]
    caller = Threads({}, wait=0.02)
    assert len(list(fetcher(caller).fetch_many(jobs, concurrency=4))) == 150
    assert {"fetch-0", "fetch-1", "fetch-2", "fetch-3"} <= set(caller.by.values())


def test_a_stop_ends_the_call_the_consumer_is_inside_after_the_grace():
    # One job, so the consumer makes the call itself; the server drips for a minute. The watchdog,
    # not the consumer's loop, must end the call STOP_GRACE seconds after the stop.
    from audit.vod.client import VodClient
    from audit.vod.endpoints import resolve
    from audit.vod.keys import Credentials
    from tests.hostile import hostile, json_reply

    class Watched(VodClient):
        def get_job_detail(self, job):
            calling.set()
            return super().get_job_detail(job)

    body = {"RequestId": "R", "AIJobDetail": {"JobId": "j"}}
    stop, calling, ended = threading.Event(), threading.Event(), threading.Event()
    found = []
    with hostile(lambda query: json_reply(body, drip=0.5)) as url:
        fetching = fetcher(Watched(resolve(endpoint=url), Credentials.of("AK", "S"), timeout=60))

        def run():
            found.extend(fetching.fetch_many([JobRef("ai", "j")], concurrency=4, stop=stop))
            ended.set()

        threading.Thread(target=run, daemon=True).start()
        assert calling.wait(20)
        stop.set()
        assert ended.wait(STOP_GRACE + 20), "the call ran on past the grace"
    assert found == []  # cut off by the stop: not audited, never an error


def test_a_failure_in_finish_reaches_the_consumer():
    def finish(fetched):
        raise ValueError(f"cannot judge {fetched.job.job_id}")

    with pytest.raises(ValueError, match="cannot judge"):
        list(fetcher(Scripted({})).fetch_each([JobRef("ai", "a")], finish, concurrency=2))


REFUSED = ApiError("connection", "ConnectionRefused", "cannot connect to 127.0.0.1:9: connection refused")


class GoesAway:
    """Answers, then refuses every connection for `outage` seconds from its `after`-th call, then answers."""

    def __init__(self, after: int, outage: float):
        self.after, self.outage = after, outage
        self.lock = threading.Lock()
        self.answered = self.refused = 0
        self.back_at: float | None = None

    def get_job_detail(self, job):
        import time

        with self.lock:
            if self.answered >= self.after and self.back_at is None:
                self.back_at = time.monotonic() + self.outage
            if self.back_at is not None and time.monotonic() < self.back_at:
                self.refused += 1
                return REFUSED
            self.answered += 1
            return Answer({"RequestId": "R", "JobType": job.job_type})


def test_an_outage_mid_run_is_paused_through_with_probes_not_every_jobs_retries(monkeypatch):
    """Issue 26, item 2: after calls have succeeded, a streak of connection failures pauses the run
    and probes the endpoint one call at a time; the jobs' retries are not burnt, none becomes an error."""
    import audit.calls.reach as reach

    monkeypatch.setattr(reach, "PAUSE_FIRST", 0.05)
    caller = GoesAway(after=20, outage=0.8)
    f = fetcher(caller, retries=3)
    jobs = [JobRef("transcode", f"t{n}") for n in range(200)]
    results = list(f.fetch_many(jobs, concurrency=8))
    assert len(results) == 200 and all(isinstance(r.result, Answer) for r in results)
    assert caller.refused < reach.UNREACHABLE_AFTER + 8 + 12  # the streak, calls in flight, a few probes
    assert f.reach.pauses >= 2  # it paused, then probed again at least once
    assert max(r.attempts for r in results) == 1  # failures while it was down were nobody's attempt


class Clocks:
    """The sizer's clocks, moved by hand: wall time, this process's CPU, the calls made."""

    def __init__(self) -> None:
        self.wall = self.cpu = 0.0
        self.calls = 0

    def sizer(self, most: int, rate: float = 15.0) -> Sizer:
        return Sizer(most, lambda: self.calls, lambda: rate, clock=lambda: self.wall, cpu=lambda: self.cpu)

    def tick(self, seconds: float, *, busy: float = 0.0, calls: int = 0) -> None:
        self.wall += seconds * 1.001
        self.cpu += seconds * busy
        self.calls += calls


def test_callers_double_while_they_wait_on_the_network_up_to_the_most():
    clocks = Clocks()
    sizer = clocks.sizer(16)
    seen = [sizer.active]
    for _ in range(6):
        clocks.tick(LOOK_EVERY, busy=0.05)
        sizer.look()
        seen.append(sizer.active)
    assert seen == [1, 2, 4, 8, 16, 16, 16]


def test_no_more_callers_once_the_process_is_busy_or_the_rate_is_reached():
    clocks = Clocks()
    busy = clocks.sizer(16)
    for _ in range(5):
        clocks.tick(LOOK_EVERY, busy=0.8)  # a fast server: more threads would only share the GIL
        assert not busy.look()
    assert busy.active == 1
    clocks = Clocks()
    limited = clocks.sizer(16)
    clocks.tick(LOOK_EVERY, busy=0.05)
    assert limited.look() and limited.active == 2
    for _ in range(5):
        clocks.tick(LOOK_EVERY, busy=0.05, calls=2)  # 20 calls/s: the limiter's 15/s is reached
        assert not limited.look()
    assert limited.active == 2
    clocks.tick(LOOK_EVERY / 2, busy=0.0)
    assert not limited.look()  # too soon to judge


def test_a_pool_waiting_on_the_network_reaches_its_calls_in_flight():
    inside, most = [0], [0]
    lock = threading.Lock()

    class Slow(Scripted):
        def get_job_detail(self, job):
            with lock:
                inside[0] += 1
                most[0] = max(most[0], inside[0])
            time.sleep(0.02)  # the network's time, not this process's
            with lock:
                inside[0] -= 1
            return super().get_job_detail(job)

    jobs = [JobRef("ai", f"j{i}") for i in range(300)]
    assert len(list(fetcher(Slow({})).fetch_many(jobs, concurrency=8))) == 300
    assert most[0] == 8
