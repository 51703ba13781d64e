"""Killed, terminated and interrupted runs: consistent state, honest partial reports, no job asked twice."""

from __future__ import annotations

import signal
import sqlite3
import time
from datetime import UTC, datetime, timedelta

import pytest

from audit.emulator.generate import generate
from tests.run.helpers import cli, popen, results, run_args, state_of, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


def wait_for(predicate, timeout=60.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.005)
    raise AssertionError("condition not reached in time")


def test_sigkill_midway_then_resume_queries_nothing_twice(start_emulator, tmp_path):
    bodies = generate(40, 21, datetime.now(UTC) - timedelta(hours=2))
    emulator = start_emulator(jobs=bodies, qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    out = tmp_path / "out"
    # One call at a time, 5 per second: between two calls nothing is in flight, which is when we kill.
    process = popen(*run_args(manifest, out, emulator.url, "--qps", "5", "--concurrency", "1"))
    try:
        last = {"total": 0, "at": time.monotonic()}

        def quiet_moment():
            total = emulator.counters.snapshot()["total"]
            now = time.monotonic()
            if total != last["total"]:
                last.update(total=total, at=now)
            return total >= 12 and 0.06 <= now - last["at"] <= 0.12

        wait_for(quiet_moment)
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=10) == -signal.SIGKILL
    finally:
        process.kill()
    answered_before = emulator.counters.snapshot()["total"]
    assert 12 <= answered_before < 40
    database = sqlite3.connect(state_of(out))
    assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    stored = database.execute("SELECT COUNT(*) FROM responses").fetchone()[0]
    database.close()
    assert stored == answered_before  # every answer was stored the moment it arrived
    assert not (out / "results.json").exists()  # no half-written report either
    resumed = cli(*run_args(manifest, out, emulator.url, "--qps", "50"))
    assert resumed.returncode in (0, 2), resumed.stderr
    counters = emulator.counters.snapshot()
    assert len(counters["jobs_answered"]) == 40
    document = results(out)
    assert len(document["results"]) == 40 and not document["incomplete"]
    # A job finished before the kill came from state; only unfinished ones are (rightly) asked again.
    unfinished = {f"{r['job_type']}/{r['job_id']}" for r in document["results"] if r["outcome"] == "pending"}
    asked_twice = {job for job, n in counters["jobs_answered"].items() if n > 1}
    assert asked_twice <= unfinished
    assert max(counters["jobs_answered"].values()) <= 2


def test_sigterm_writes_what_was_collected_and_exits_3(start_emulator, tmp_path):
    bodies = generate(60, 22, datetime.now(UTC) - timedelta(hours=2))
    emulator = start_emulator(jobs=bodies, qps=0, latency_ms=30)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    out = tmp_path / "out"
    process = popen(*run_args(manifest, out, emulator.url, "--qps", "8"))
    try:
        wait_for(lambda: emulator.counters.snapshot()["total"] >= 10)
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 3, stderr
    assert "SIGTERM: finishing calls in flight" in stderr
    assert "INCOMPLETE" in stdout
    document = results(out)
    assert document["incomplete"] is True and document["verdict"] in ("INCOMPLETE", "FAIL")
    answered = set(emulator.counters.snapshot()["jobs_answered"])
    reported = {f"{r['job_type']}/{r['job_id']}" for r in document["results"]}
    assert reported == answered  # every job that was fetched is in the report, and only those
    assert 10 <= len(reported) < 60
    runs = sqlite3.connect(state_of(out)).execute("SELECT status FROM runs").fetchall()
    assert runs == [("incomplete",)]


def test_second_sigint_abandons_at_once_with_130(start_emulator, tmp_path):
    bodies = generate(20, 23, datetime.now(UTC) - timedelta(hours=2))
    emulator = start_emulator(jobs=bodies, qps=0, latency_ms=3000)  # calls in flight for seconds
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    process = popen(*run_args(manifest, tmp_path / "out", emulator.url, "--timeout", "20"))
    try:
        # A call in flight: the run's signal handlers are in place.
        wait_for(lambda: emulator.counters.snapshot()["total"] > 0)
        process.send_signal(signal.SIGINT)
        assert "SIGINT: finishing calls in flight" in process.stderr.readline()  # the first was heard
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 130
    finally:
        process.kill()
