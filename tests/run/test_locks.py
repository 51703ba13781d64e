"""Issue #37, item 2: one run at a time in a report folder and on an audit's state."""

from __future__ import annotations

import json
import os
import signal
import time

import pytest

from tests.conftest import sample_jobs
from tests.run.helpers import cli, popen, results, write_manifest

pytestmark = pytest.mark.slow


def args(manifest, url, out, state, *extra):
    return (
        "run", str(manifest), "--endpoint", url, "--out", str(out), "--state", str(state),
        "--no-progress", "--concurrency", "1", *extra,
    )  # fmt: skip


def holding(lock, process) -> dict:
    """The lock file's words once `process` holds it (its readiness signal), bounded in time."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        text = lock.read_text() if lock.exists() else ""
        if text and json.loads(text)["pid"] == process.pid:
            return json.loads(text)
        time.sleep(0.05)
    raise AssertionError("the run never took its lock")


def test_a_second_run_is_refused_in_words_or_waits_and_the_chain_holds(start_emulator, tmp_path):
    emulator = start_emulator(jobs=sample_jobs(), qps=0, latency_ms=600)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    out, state = tmp_path / "reports", tmp_path / "s.db"
    first = popen(*args(manifest, emulator.url, out, state))
    holder = holding(tmp_path / ".reports.vod-audit.lock", first)
    refused = cli(*args(manifest, emulator.url, out, state))
    assert refused.returncode == 1
    assert refused.stderr == (
        f"vod-audit: the report folder {out} is in use by run {holder['run_id']} (pid {first.pid} on "
        f"{holder['host']}, since {holder['since']}); nothing was audited (wait for it, or give --wait-lock 30m)\n"
    )
    waited = cli(*args(manifest, emulator.url, out, state, "--wait-lock", "2m", "--refresh"))
    assert first.wait(timeout=120) in (0, 2)
    assert waited.returncode in (0, 2), waited.stderr
    assert "waiting for it (--wait-lock)" in waited.stderr
    # Serialised: the second run knows the first as the night before, so nothing is new twice.
    assert results(out)["changes"].get("new", 0) == 0
    history = cli("history", "--state", str(state), "--format", "json")
    runs = json.loads(history.stdout)["runs"]
    assert [r["status"] for r in runs] == ["complete", "complete"]
    tomorrow = tmp_path / "tomorrow"
    assert cli(*args(manifest, emulator.url, tomorrow, state)).returncode in (0, 2)
    chain = cli("verify", "--chain", str(out), str(tomorrow))
    assert chain.returncode == 0, chain.stdout


def test_two_audits_on_one_state_run_side_by_side(start_emulator, tmp_path):
    emulator = start_emulator(jobs=sample_jobs(), qps=0, latency_ms=300)
    state = tmp_path / "s.db"
    runs = []
    for name in ("east", "west"):
        manifest = write_manifest(tmp_path / f"{name}.yaml", sample_jobs())
        runs.append(popen(*args(manifest, emulator.url, tmp_path / f"out-{name}", state)))
    for process in runs:
        _, stderr = process.communicate(timeout=120)
        assert process.returncode in (0, 2), stderr


def test_a_lock_left_by_a_killed_run_is_taken_over_saying_so(start_emulator, tmp_path):
    emulator = start_emulator(jobs=sample_jobs(), qps=0, latency_ms=600)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    out, state = tmp_path / "reports", tmp_path / "s.db"
    killed = popen(*args(manifest, emulator.url, out, state))
    holder = holding(tmp_path / ".reports.vod-audit.lock", killed)
    os.kill(killed.pid, signal.SIGKILL)
    killed.wait(timeout=30)
    after = cli(*args(manifest, emulator.url, out, state))
    assert after.returncode in (0, 2), after.stderr
    assert (
        f"vod-audit: the report folder {out}: took over the lock of run {holder['run_id']} (pid {killed.pid} "
        f"on {holder['host']}, since {holder['since']}), which ended without releasing it"
    ) in after.stderr
    assert not (tmp_path / ".reports.vod-audit.lock").read_text()  # released at the end
