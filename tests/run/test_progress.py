"""Progress on stderr: a live bar on a terminal, a plain line every few seconds otherwise, or nothing."""

from __future__ import annotations

import io

from audit.common.findings import Outcome
from audit.report.progress import Progress
from audit.results.record import JobResult


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def results(count, outcome=Outcome.OK):
    return [JobResult("ai", f"j{i}", outcome) for i in range(count)]


def test_plain_lines_every_interval_without_a_terminal():
    clock, stream = Clock(), io.StringIO()
    progress = Progress(10, stream, enabled=True, live=False, interval=5.0, clock=clock)
    for index, result in enumerate(results(10)):
        clock.now = index * 1.0
        progress.update(result)
    lines = stream.getvalue().splitlines()
    assert lines[0].startswith("progress: 1/10") and lines[-1].startswith("progress: 10/10")
    assert len(lines) == 3  # at 0 s, at 5 s, and the last job
    assert "ok 10" in lines[-1] and "\r" not in stream.getvalue()


def test_live_bar_on_a_terminal_with_rate_eta_and_counts():
    clock, stream = Clock(), io.StringIO()
    progress = Progress(4, stream, enabled=True, live=True, clock=clock)
    for index, result in enumerate(results(2) + results(2, Outcome.DRIFT)):
        clock.now = (index + 1) * 0.5
        progress.update(result)
    progress.close()
    text = stream.getvalue()
    assert text.count("\r[") == 4 and text.endswith("\n")
    assert "[" + "#" * 24 + "] 4/4 2.0/s ETA -  drift 2 ok 2" in text
    assert "2/4 2.0/s ETA 1s" in text


def test_disabled_progress_writes_nothing():
    stream = io.StringIO()
    progress = Progress(3, stream, enabled=False, live=True)
    for result in results(3):
        progress.update(result)
    progress.close()
    assert stream.getvalue() == ""
