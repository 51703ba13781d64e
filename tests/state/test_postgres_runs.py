"""Issue #39 end to end: runs of the real CLI keeping one audit's memory on a PostgreSQL server."""

from __future__ import annotations

import json
import time
from pathlib import Path

import psycopg
import pytest
import yaml

from tests.conftest import sample_jobs
from tests.run.helpers import (
    EMULATOR_ENV,
    clean_env,
    cli,
    popen,
    refused_endpoint,
    results,
    run_args,
    write_manifest,
)

pytestmark = pytest.mark.slow

# One job type's expectation that its sample job fails: a finding to carry night over night.
WRONG = {"transcode": {"Status": "TranscodeFail"}}


def manifest_in(folder: Path, name: str = "nightly") -> Path:
    """The same audit's manifest in a runner's own working folder."""
    folder.mkdir(parents=True, exist_ok=True)
    path = write_manifest(folder / "m.yaml", sample_jobs(), expect=WRONG)
    document = yaml.safe_load(path.read_text())
    path.write_text(yaml.safe_dump({"version": 1, "name": name, **document}, sort_keys=False))
    return path


def findings(out: Path) -> dict[tuple[str, str], list[tuple[str, str, str]]]:
    return {
        (r["job_type"], r["job_id"]): [(f["kind"], f["field"], f["first_seen"]) for f in r["findings"]]
        for r in results(out)["results"]
        if r["findings"]
    }


def test_two_runners_share_one_memory(start_emulator, tmp_path, postgres_url):
    emulator = start_emulator(qps=0)
    one, two = tmp_path / "runner-1", tmp_path / "runner-2"
    first = cli(*run_args(manifest_in(one), one / "out", emulator.url, state=postgres_url))
    assert first.returncode == 2, first.stderr
    asked = emulator.counters.snapshot()["total"]
    second = cli(*run_args(manifest_in(two), two / "out", emulator.url, state=postgres_url))
    assert second.returncode == 2, second.stderr
    assert findings(one / "out") and findings(two / "out") == findings(one / "out")  # first_seen kept
    assert results(two / "out")["changes"] == {"new": 0, "ongoing": len(findings(one / "out")), "resolved": 0}
    assert emulator.counters.snapshot()["total"] == asked  # every answer was final: nothing asked again
    assert results(two / "out")["previous_sums"]  # the evidence chain goes on across runners


def holding(url: str, audit: str, process) -> dict:
    """The words of the run holding `audit`'s lock once `process` holds it (its readiness signal)."""
    deadline = time.monotonic() + 60
    with psycopg.connect(url, autocommit=True) as db:
        while time.monotonic() < deadline:
            assert process.poll() is None, process.communicate()
            row = (
                db.execute("SELECT words FROM vod_audit.holders WHERE audit=%s", (audit,)).fetchone()
                if db.execute("SELECT to_regclass('vod_audit.holders')").fetchone()[0]
                else None
            )
            if row and json.loads(row[0])["pid"] == process.pid:
                return json.loads(row[0])
            time.sleep(0.05)
    raise AssertionError("the run never took its lock")


def test_one_run_of_an_audit_at_a_time_and_two_audits_side_by_side(start_emulator, tmp_path, postgres_url):
    emulator = start_emulator(qps=0, latency_ms=1000)
    slow = ("--concurrency", "1")
    first = popen(
        *run_args(
            manifest_in(tmp_path / "a"), tmp_path / "a" / "out", emulator.url, *slow, state=postgres_url
        )
    )
    holder = holding(postgres_url, "nightly", first)
    refused = cli(
        *run_args(manifest_in(tmp_path / "b"), tmp_path / "b" / "out", emulator.url, state=postgres_url)
    )
    shown = postgres_url.replace(":admin-pw-8d1f@", "@")
    assert refused.returncode == 1
    assert refused.stderr == (
        f"vod-audit: the state {shown} of audit 'nightly' is in use by run {holder['run_id']} (pid "
        f"{first.pid} on {holder['host']}, since {holder['since']}); nothing was audited (wait for it, or "
        "give --wait-lock 30m)\n"
    )
    waiting = popen(
        *run_args(
            manifest_in(tmp_path / "b"),
            tmp_path / "b" / "out",
            emulator.url,
            "--wait-lock",
            "2m",
            state=postgres_url,
        )
    )
    # Another audit on the same database takes its own lock while the first holds its own.
    other = popen(
        *run_args(
            manifest_in(tmp_path / "c", "other"), tmp_path / "c" / "out", emulator.url, state=postgres_url
        )
    )
    holding(postgres_url, "other", other)
    assert first.poll() is None and holding(postgres_url, "nightly", first) == holder
    assert other.wait(timeout=120) == 2
    assert first.wait(timeout=120) == 2
    _, said = waiting.communicate(timeout=120)
    assert waiting.returncode == 2 and "waiting for it (--wait-lock)" in said
    # Serialised: the first run was the night before of the one that waited.
    assert results(tmp_path / "b" / "out")["changes"]["new"] == 0
    history = json.loads(cli("history", "--state", postgres_url, "--format", "json").stdout)["runs"]
    assert [r["status"] for r in history] == ["complete"] * 3
    with psycopg.connect(postgres_url) as db:  # released, and the words cleared
        assert db.execute("SELECT count(*) FROM vod_audit.holders").fetchone() == (0,)


def test_a_history_moves_in_by_state_copy_and_goes_on(start_emulator, tmp_path, postgres_url):
    emulator = start_emulator(qps=0)
    manifest = manifest_in(tmp_path)
    night_1 = cli(*run_args(manifest, tmp_path / "n1", emulator.url, state=tmp_path / "s.db"))
    assert night_1.returncode == 2, night_1.stderr
    copied = cli("state", "copy", str(tmp_path / "s.db"), postgres_url)
    assert copied.returncode == 0, copied.stderr
    assert copied.stdout.startswith(f"copied {len(sample_jobs())} answers, 1 run, 1 job with findings, ")
    assert "admin-pw-8d1f" not in copied.stdout + copied.stderr
    again = cli("state", "copy", str(tmp_path / "s.db"), postgres_url)
    assert again.returncode == 1 and "already holds a state (1 run," in again.stderr
    night_2 = cli(*run_args(manifest, tmp_path / "n2", emulator.url, state=postgres_url))
    assert night_2.returncode == 2, night_2.stderr
    assert results(tmp_path / "n2")["changes"]["new"] == 0
    assert findings(tmp_path / "n2") == findings(tmp_path / "n1")
    offline = cli("state", "copy", postgres_url, str(tmp_path / "offline.db"))  # an auditor's copy
    assert offline.returncode == 0, offline.stderr
    both = [
        cli("history", "--state", s, "--format", "json").stdout
        for s in (postgres_url, str(tmp_path / "offline.db"))
    ]
    assert both[0] == both[1] and len(json.loads(both[0])["runs"]) == 2


def test_a_bad_password_or_no_server_is_one_sentence_and_the_password_is_said_nowhere(
    start_emulator, tmp_path, postgres_server, postgres_url
):
    emulator = start_emulator(qps=0)
    manifest = manifest_in(tmp_path)
    wrong = postgres_server.url(password="not-the-pw-5c2e")
    refused = cli(*run_args(manifest, tmp_path / "r1", emulator.url, state=wrong))
    assert refused.returncode == 1 and refused.stdout == ""
    assert refused.stderr.count("\n") == 1 and "password authentication failed" in refused.stderr
    assert "not-the-pw-5c2e" not in refused.stderr
    with refused_endpoint() as closed:
        unreachable = cli(
            *run_args(manifest, tmp_path / "r2", emulator.url, state=f"postgresql://a:pw-77@{closed}/x")
        )
    assert unreachable.returncode == 1 and unreachable.stderr.count("\n") == 1
    assert unreachable.stderr.startswith(f"vod-audit: cannot open state postgresql://a@{closed}/x: ")
    assert "pw-77" not in unreachable.stderr
    assert emulator.counters.snapshot()["total"] == 0  # nothing was asked of the service
    # A run that works, at -vv, with the password in the URL (given by the manifest from the
    # environment): nowhere in what it printed or wrote, the manifest cache beside it included.
    document = yaml.safe_load(manifest.read_text())
    manifest.write_text(yaml.safe_dump({**document, "provider": {"state": "${env.VOD_STATE}"}}))
    out = tmp_path / "out"
    args = [
        a
        for a in run_args(manifest, out, emulator.url, "-vv")
        if a not in ("--state", str(tmp_path / "out.state.db"))
    ]
    verbose = cli(*args, env=clean_env(**EMULATOR_ENV, VOD_STATE=postgres_url))
    assert verbose.returncode == 2, verbose.stderr
    assert "DEBUG" in verbose.stderr
    written = [p for p in tmp_path.rglob("*") if p.is_file()]
    said = verbose.stdout + verbose.stderr + "".join(p.read_text(errors="replace") for p in written)
    assert "admin-pw-8d1f" not in said
    assert results(out)["options"]["state"] == postgres_url.replace(":admin-pw-8d1f@", "@")


def test_a_server_restart_mid_run_is_ridden_out(start_emulator, tmp_path, postgres_server, postgres_url):
    from tests.reliability.test_kill_matrix import bodies

    planted = bodies()
    emulator = start_emulator(jobs=planted, qps=0, latency_ms=20)
    manifest = write_manifest(tmp_path / "m.yaml", planted)
    run = popen(
        *run_args(
            manifest, tmp_path / "out", emulator.url, "--qps", "200", "--concurrency", "4", state=postgres_url
        )
    )
    deadline = time.monotonic() + 60
    while emulator.counters.snapshot()["total"] < 100 and time.monotonic() < deadline:
        time.sleep(0.02)  # a fifth of the run made: answers committed and waiting
    postgres_server.pg_ctl("restart", "-m", "fast", "-w")
    _, stderr = run.communicate(timeout=180)
    assert run.returncode in (0, 2), stderr
    assert not results(tmp_path / "out")["state_error"]
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT count(*) FROM vod_audit.responses").fetchone() == (len(planted),)
        assert db.execute("SELECT status FROM vod_audit.runs").fetchall() == [("complete",)]


def test_a_server_gone_for_good_stops_the_run_and_the_next_night_follows_the_last_complete_one(
    start_emulator, tmp_path, postgres_server, postgres_url
):
    import hashlib

    from tests.reliability.test_kill_matrix import bodies

    planted = bodies()
    emulator = start_emulator(jobs=planted, qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", planted)
    first = cli(*run_args(manifest, tmp_path / "n1", emulator.url, "--qps", "300", state=postgres_url))
    assert first.returncode in (0, 2), first.stderr
    # Night 2 asks every job again, slowly; the server goes away for good a few seconds in.
    run = popen(
        *run_args(manifest, tmp_path / "n2", emulator.url, "--qps", "10", "--refresh", state=postgres_url)
    )
    deadline = time.monotonic() + 60
    asked = emulator.counters.snapshot()["total"]
    while emulator.counters.snapshot()["total"] < asked + 30 and time.monotonic() < deadline:
        time.sleep(0.05)
    postgres_server.pg_ctl("stop", "-m", "fast", "-w")
    try:
        _, stderr = run.communicate(timeout=180)
    finally:
        postgres_server.serve()  # on its port again, for the rest of this process's tests too
    assert run.returncode == 1, stderr
    assert "the state could not be written" in stderr and "the run stopped there" in stderr
    assert results(tmp_path / "n2")["incomplete"] and len(results(tmp_path / "n2")["results"]) < len(planted)
    assert "admin-pw-8d1f" not in stderr
    third = cli(*run_args(manifest, tmp_path / "n3", emulator.url, "--qps", "300", state=postgres_url))
    assert third.returncode in (0, 2), third.stderr
    # Never a second first night: the chain goes on from night 1, the last complete one.
    night_1 = hashlib.sha256((tmp_path / "n1" / "SHA256SUMS").read_bytes()).hexdigest()
    assert results(tmp_path / "n3")["previous_sums"] == night_1
    history = json.loads(cli("history", "--state", postgres_url, "--format", "json").stdout)["runs"]
    statuses = [r["status"] for r in history]
    assert len(statuses) == 3 and statuses[0] == statuses[2] == "complete" and statuses[1] != "complete"
