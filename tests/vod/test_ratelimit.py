"""The shared limiter, on a fake clock: window bound under many threads, back-off and recovery."""

from __future__ import annotations

import threading

import pytest

from audit.calls.ratelimit import RateLimiter


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0
        self.lock = threading.Lock()

    def __call__(self) -> float:
        with self.lock:
            return self.now

    def advance(self, seconds: float) -> None:
        with self.lock:
            self.now += seconds


def max_in_any_window(starts, width=1.0):
    starts = sorted(starts)
    best, left = 0, 0
    for right, moment in enumerate(starts):
        while moment - starts[left] >= width:
            left += 1
        best = max(best, right - left + 1)
    return best


@pytest.mark.parametrize("qps", [1, 2.5, 15, 40])
def test_no_one_second_window_exceeds_qps_under_many_threads(qps):
    clock = FakeClock()
    limiter = RateLimiter(qps, clock=clock, sleep=lambda s: None)
    starts: list[float] = []
    lock = threading.Lock()

    def worker():
        for _ in range(25):
            moment = limiter.reserve()
            with lock:
                starts.append(moment)
            clock.advance(0.001)

    threads = [threading.Thread(target=worker) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(starts) == 400
    assert max_in_any_window(starts) <= int(qps)
    # It is a limit, not a brake: the schedule runs at (nearly) the full rate. A window holds whole
    # requests, so a fractional qps can sustain only its integer part.
    assert (len(starts) - 1) / (max(starts) - min(starts)) >= int(qps) * 0.97


def test_acquire_sleeps_until_the_reserved_start():
    clock = FakeClock()
    slept: list[float] = []
    limiter = RateLimiter(10, clock=clock, sleep=slept.append)
    for _ in range(3):
        limiter.acquire()
    assert slept == pytest.approx([0.1, 0.2])


def test_a_caller_that_wakes_late_moves_its_window():
    """Issue 26, item 10: against its own emulator at 15/s the tool throttled itself now and then. A
    caller woken late (a sleep overshooting, a thread waiting for the GIL) really starts later than
    planned; the window must count from then, or the sixteenth request follows it within a second."""
    clock = FakeClock()
    late = [0.08]  # the second caller oversleeps by 80 ms, once

    def sleep(seconds: float) -> None:
        clock.advance(seconds + (late.pop() if late else 0.0))

    limiter = RateLimiter(15, clock=clock, sleep=sleep)
    went = []
    for _ in range(40):
        limiter.acquire()
        went.append(clock())
    assert max_in_any_window(went) <= 15  # by when each really went, as the service counts


def test_throttling_backs_off_then_recovers():
    clock = FakeClock()
    limiter = RateLimiter(15, clock=clock, sleep=lambda s: None)
    limiter.on_throttle()
    limiter.on_throttle()  # same window: one overload, one cut
    assert limiter.rate == pytest.approx(15 * 0.85)
    clock.advance(1.1)
    limiter.on_throttle()
    assert limiter.rate == pytest.approx(15 * 0.85 * 0.85)
    for _ in range(30):
        clock.advance(1.1)
        limiter.on_throttle()
    assert limiter.rate == pytest.approx(15 * 0.05)  # floor: never stops entirely
    successes = 0
    while limiter.rate < 15:
        limiter.on_success()
        successes += 1
    assert limiter.rate == 15
    assert successes > 100  # additive: recovery is gradual, not a jump


def test_a_lowered_rate_is_enforced():
    clock = FakeClock()
    limiter = RateLimiter(10, clock=clock, sleep=lambda s: None)
    for _ in range(5):
        clock.advance(1.1)
        limiter.on_throttle()
    starts = [limiter.reserve() for _ in range(50)]
    assert max_in_any_window(starts) <= int(limiter.rate)


def test_invalid_qps_is_refused():
    for qps in (0, -1, float("inf"), float("nan")):
        with pytest.raises(ValueError):
            RateLimiter(qps)


def test_a_throttle_after_a_full_window_cuts_to_what_was_served():
    clock = FakeClock()
    limiter = RateLimiter(15, clock=clock, sleep=lambda s: None)
    limiter.reserve()
    for _ in range(10):  # ten served in the last window while asking for fifteen
        clock.advance(0.105)
        limiter.on_success()
    limiter.on_throttle()
    assert limiter.rate == pytest.approx(9.5)


def steps_to_gain(limiter, amount):
    goal, steps = limiter.rate + amount, 0
    while limiter.rate < goal:
        limiter.on_success()
        steps += 1
    return steps


def test_recovery_is_quick_far_below_the_throttling_point_and_slow_near_it():
    far = RateLimiter(15, clock=FakeClock(), sleep=lambda s: None)
    far.on_throttle()  # no history: throttling began at 15, the rate is now 12.75, well below 90% of it
    clock = FakeClock()
    near = RateLimiter(15, clock=clock, sleep=lambda s: None)
    near.reserve()
    for _ in range(10):
        clock.advance(0.105)
        near.on_success()
    near.on_throttle()  # throttling began at 10 served per window; the rate is 9.5, close to it
    assert far.rate == pytest.approx(12.75) and near.rate == pytest.approx(9.5)
    assert steps_to_gain(near, 0.5) > 5 * steps_to_gain(far, 0.5)
