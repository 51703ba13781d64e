"""Kill matrix: SIGKILL and SIGTERM at seeded random moments of a 500-job run, then a rerun."""

from __future__ import annotations

import json
import random
import signal
import sqlite3
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache

import psycopg
import pytest

from audit.common.jobtypes import job_type
from audit.emulator.data import job_identity
from audit.emulator.generate import generate
from tests.run.helpers import cli, popen, results, run_args, state_of, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

SEED = 2026  # change to replay another set of moments
FAST = ("--qps", "300", "--concurrency", "8")  # 500 jobs in about two seconds: the moments span the run
MOMENTS = [round(random.Random(SEED + i).uniform(0.1, 1.6), 3) for i in range(10)]


@cache
def bodies() -> list[dict]:
    """500 finished jobs, completed a day before the first test asks (no clock read at import)."""
    return [
        b
        for b in generate(560, 77, datetime.now(UTC) - timedelta(days=1))
        if next(v for k, v in b.items() if k.endswith("Detail"))["Status"] in job_type(b["JobType"]).terminal
    ][:500]


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("moment", MOMENTS)
def test_kill_then_rerun(start_emulator, tmp_path, signum, moment):
    kill_then_rerun(start_emulator, tmp_path, signum, moment, None)


# The same matrix on a PostgreSQL state (#39), at three of the moments: the server's transactions and
# its advisory lock, released with the killed run's session.
@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
@pytest.mark.parametrize("moment", MOMENTS[:3])
def test_kill_then_rerun_on_postgresql(start_emulator, tmp_path, signum, moment, postgres_url):
    kill_then_rerun(start_emulator, tmp_path, signum, moment, postgres_url)


def stored_jobs(out, url: str | None) -> set[tuple[str, str]]:
    """The answers in state, after a check that nothing is half-written."""
    if url is None:
        database = sqlite3.connect(state_of(out))
        assert database.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        stored = {(t, i) for t, i in database.execute("SELECT job_type, job_id FROM responses")}
        database.close()
        return stored
    with psycopg.connect(url) as db:
        # No half run: a run is complete with its record of jobs, or has none.
        assert not db.execute(
            "SELECT run_id FROM vod_audit.runs LEFT JOIN vod_audit.run_jobs USING (run_id) "
            "WHERE (status='complete') <> (run_jobs.jobs IS NOT NULL)"
        ).fetchall()
        return {(t, i) for t, i in db.execute("SELECT job_type, job_id FROM vod_audit.responses")}


def kill_then_rerun(start_emulator, tmp_path, signum, moment, url: str | None) -> None:
    planted = bodies()
    assert len(planted) == 500
    emulator = start_emulator(jobs=planted, qps=0, latency_ms=15)
    manifest = write_manifest(tmp_path / "m.yaml", planted)
    out = tmp_path / "out"
    out.mkdir()
    (out / "results.json").write_text('{"previous": true}')  # a report of an earlier run
    process = popen(*run_args(manifest, out, emulator.url, *FAST, state=url))
    try:
        deadline = time.monotonic() + 30
        while emulator.counters.snapshot()["total"] == 0 and time.monotonic() < deadline:
            time.sleep(0.01)  # the moment counts from the first call, not from interpreter start-up
        time.sleep(moment)
        process.send_signal(signum)
        code = process.wait(timeout=60)
    finally:
        process.kill()
    if signum == signal.SIGKILL:
        assert code in (-signal.SIGKILL, 0, 2)
    else:
        assert code in (3, 0, 2)

    stored = stored_jobs(out, url)
    # No report is half-written: the old file or a complete new one.
    document = json.loads((out / "results.json").read_text())
    if "previous" not in document:
        assert {(r["job_type"], r["job_id"]) for r in document["results"]} <= {
            job_identity(b) for b in planted
        }
        if code == 3:
            assert document["incomplete"] is True
    answered_before = Counter(emulator.counters.snapshot()["jobs_answered"])

    # The killed run's session ends with it; the server may take a moment to notice: the rerun waits
    # for the lock rather than racing that moment, and nothing holds it once the rerun is done.
    waits = ("--wait-lock", "30s") if url else ()
    rerun = cli(*run_args(manifest, out, emulator.url, *FAST, *waits, state=url))
    assert rerun.returncode in (0, 2), rerun.stderr
    final = results(out)
    assert len(final["results"]) == 500 and not final["incomplete"]
    assert Counter((r["job_type"], r["job_id"]) for r in final["results"]).most_common(1)[0][1] == 1
    answered = Counter(emulator.counters.snapshot()["jobs_answered"])
    asked_again = {key for key, n in answered.items() if n > answered_before.get(key, 0)}
    # A response that arrived and was stored is never asked for again.
    assert not {f"{t}/{i}" for t, i in stored} & asked_again
    if signum == signal.SIGTERM:
        assert max(answered.values()) == 1  # a graceful stop loses nothing in flight
    else:
        # Only a call in flight at the kill, or an answer still waiting for its batch's commit (the
        # last quarter second: audit.state.batch), may be asked again, and once.
        assert max(answered.values()) <= 2
    assert [p.name for p in out.iterdir() if p.name.endswith(".tmp")] == []
    if url:
        with psycopg.connect(url) as db:
            assert db.execute("SELECT count(*) FROM pg_locks WHERE locktype='advisory'").fetchone() == (0,)
