"""`vod-audit run` end to end over loopback: demo outcomes, every exit code, state, throttling."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from audit.emulator.data import job_identity
from audit.emulator.generate import generate
from tests.conftest import sample_jobs
from tests.run.helpers import clean_env, cli, results, run_args, state_of, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

EXPECT_OK = {
    "transcode": {"Status": "TranscodeSuccess"},
    "snapshot": {"Status": "Success"},
    "ai": {"Status": "success"},
    "workflow": {"Status": "Succeed"},
}


def test_demo_yields_its_planted_outcomes(tmp_path):
    done = cli(
        "run",
        "examples/demo.yaml",
        "--emulator",
        "examples/demo-data.yaml",
        "--out",
        str(tmp_path / "out"),
        "--state",
        str(tmp_path / "state.db"),
        env=clean_env(),
    )
    assert done.returncode == 2, done.stderr
    document = results(tmp_path / "out")
    assert document["counts"] == {
        "error": 0,
        "not_found": 1,
        "invalid": 1,
        "drift": 6,
        "pending": 1,
        "waived": 0,
        "ok": 28,
    }
    assert document["emulator"] is True and document["exit_code"] == 2
    assert "the embedded emulator" in done.stdout and "(not the real service)" in done.stdout
    drifted = {r["job_id"]: r["findings"][0]["kind"] for r in document["results"] if r["outcome"] == "drift"}
    assert drifted["0e7d0e000000000000000000000000c3"] == "duration"  # the overdue one
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "SHA256SUMS",
        "attestation.intoto.json",
        "durations.csv",
        "evidence.json",
        "junit.xml",
        "mismatches.csv",
        "report.html",
        "results.csv",
        "results.json",
        "results.sarif",
        "summary.md",
    ]


def test_exit_0_for_a_clean_manifest(start_emulator, tmp_path):
    emulator = start_emulator(qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs(), EXPECT_OK)
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url))
    assert done.returncode == 0, done.stdout + done.stderr
    assert results(tmp_path / "out")["counts"]["ok"] == 4
    assert "gate --fail-on any: passed, exit 0" in done.stdout


def test_exit_1_for_a_bad_manifest(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\njobs:\n  - {id: a, type: transcod}\n")
    done = cli("run", str(manifest), "--emulator", "examples/demo-data.yaml", "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert f"{manifest}:3:19: 'transcod' is not a job type" in done.stderr
    assert "nothing was audited" in done.stderr and "Traceback" not in done.stderr
    assert not (tmp_path / "out" / "results.json").exists()


def test_exit_1_for_a_wrong_secret_with_one_message(start_emulator, tmp_path):
    emulator = start_emulator(qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", generate(40, 5, datetime.now(UTC)))
    env = clean_env(
        ALIBABA_CLOUD_ACCESS_KEY_ID="emulator-ak", ALIBABA_CLOUD_ACCESS_KEY_SECRET="wrong-secret-value"
    )
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url), env=env)
    assert done.returncode == 1
    assert done.stderr.count("authentication failed") == 1
    assert "SignatureDoesNotMatch" in done.stderr
    assert "wrong-secret-value" not in done.stdout + done.stderr
    assert emulator.counters.snapshot()["by_outcome"]["SignatureDoesNotMatch"] < 40  # it stopped early


def test_exit_1_without_credentials_says_how(tmp_path):
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    done = cli("run", str(manifest), "--out", str(tmp_path / "out"), env=clean_env(HOME=str(tmp_path)))
    assert done.returncode == 1
    assert (
        "no credentials found; set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"
        in done.stderr
    )
    assert "--emulator" in done.stderr


def test_exit_2_for_drift(start_emulator, tmp_path):
    emulator = start_emulator(qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs(), {"transcode": {"Definition": "4K"}})
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url))
    assert done.returncode == 2
    assert results(tmp_path / "out")["counts"]["drift"] == 1


def test_exit_3_when_every_call_for_some_jobs_fails(start_emulator, tmp_path):
    bodies = sample_jobs()
    failing = job_identity(bodies[1])[1]
    emulator = start_emulator(qps=0, failing_jobs=frozenset({failing}))
    manifest = write_manifest(tmp_path / "m.yaml", bodies, EXPECT_OK)
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url, "--retries", "2"))
    assert done.returncode == 3, done.stdout + done.stderr
    document = results(tmp_path / "out")
    assert document["counts"] == {
        "error": 1,
        "not_found": 0,
        "invalid": 0,
        "drift": 0,
        "pending": 0,
        "waived": 0,
        "ok": 3,
    }
    failed = next(r for r in document["results"] if r["outcome"] == "error")
    assert failed["job_id"] == failing and failed["attempts"] == 3
    assert "InternalError" in failed["findings"][0]["message"]
    assert document["calls"] == emulator.counters.snapshot()["total"] == 3 + 3
    assert document["retries"] == 2


def test_second_run_uses_state_and_refresh_queries_again(start_emulator, tmp_path):
    bodies = sample_jobs()
    running = json.loads(json.dumps(bodies[0]))
    running["TranscodeJobDetail"].update(JobId="still-running", Status="Transcoding")
    running["TranscodeJobDetail"].pop("CompleteTime")
    emulator = start_emulator(jobs=[*bodies, running], qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", [*bodies, running])
    out = tmp_path / "out"
    assert cli(*run_args(manifest, out, emulator.url)).returncode == 0
    assert emulator.counters.snapshot()["total"] == 5
    second = cli(*run_args(manifest, out, emulator.url))
    assert second.returncode == 0
    assert emulator.counters.snapshot()["total"] == 6  # only the running job was asked again
    document = results(out)
    assert sorted((r["job_id"], r["from_state"]) for r in document["results"])[-1] == ("still-running", False)
    assert sum(r["from_state"] for r in document["results"]) == 4
    assert "from state 4" in second.stdout
    assert cli(*run_args(manifest, out, emulator.url, "--refresh")).returncode == 0
    assert emulator.counters.snapshot()["total"] == 11
    runs = (
        sqlite3.connect(state_of(out))
        .execute("SELECT status, calls FROM runs ORDER BY started_at")
        .fetchall()
    )
    assert runs == [("complete", 5), ("complete", 1), ("complete", 5)]


def test_target_limits_the_run(start_emulator, tmp_path):
    emulator = start_emulator(qps=0)
    bodies = sample_jobs()
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    target = job_identity(bodies[2])[1]
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url, "--target", target))
    assert done.returncode == 0
    assert [r["job_id"] for r in results(tmp_path / "out")["results"]] == [target]
    missing = cli(*run_args(manifest, tmp_path / "out", emulator.url, "--target", "nope"))
    assert missing.returncode == 1 and "--target nope: no such job in the manifest" in missing.stderr


def test_provider_block_sets_options_and_flags_win(start_emulator, tmp_path):
    emulator = start_emulator(qps=0)
    bodies = sample_jobs()
    manifest = tmp_path / "m.yaml"
    write_manifest(manifest, bodies)
    text = manifest.read_text().replace(
        "version: 1\n",
        f"version: 1\nprovider:\n  endpoint: {emulator.url}\n  retries: 1\n  out: {tmp_path / 'from-provider'}\n",
    )
    manifest.write_text(text)
    done = cli("run", str(manifest), "--no-progress", "--retries", "3")
    assert done.returncode == 0, done.stderr
    document = results(tmp_path / "from-provider")
    assert document["options"]["retries"] == 3 and document["endpoint"] == emulator.url


def test_300_jobs_at_15_qps_are_never_throttled(start_emulator, tmp_path):
    anchor = datetime.now(UTC) - timedelta(days=1)
    bodies = generate(300, 11, anchor)
    emulator = start_emulator(jobs=bodies, qps=15)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url, "--qps", "15"), timeout=120)
    assert done.returncode in (0, 2), done.stderr
    counters = emulator.counters.snapshot()
    assert counters["by_outcome"].get("Throttling.User", 0) == 0
    assert counters["total"] == 300
    assert results(tmp_path / "out")["throttles"] == 0


def test_import_prints_a_manifest_that_validates(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text(
        "# two jobs and one unknown\nf41ed0000000000000000000000000a1\n\n510e00000000000000000000000000a7\nnope\n"
    )
    done = cli(
        "import",
        "--type",
        "transcode",
        "--ids",
        str(ids),
        "--emulator",
        "examples/demo-data.yaml",
        env=clean_env(),
    )
    assert done.returncode == 2  # one job could not be pinned, one failed
    assert "transcode nope: not found; left out" in done.stderr
    pinned = tmp_path / "pinned.yaml"
    pinned.write_text(done.stdout)
    # Issue 26, item 9: a failed job is pinned to the success a team wants, and said to fail it.
    jobs = yaml.safe_load(done.stdout)["jobs"]
    assert [job["expect"]["Status"] for job in jobs] == ["TranscodeSuccess", "TranscodeSuccess"]
    assert "max_duration: 24m" in done.stdout
    failed = "transcode f41ed0000000000000000000000000a1"
    assert (
        f"{failed}: TranscodeFail now; pinned Status TranscodeSuccess, which it does not meet" in done.stderr
    )
    assert f"# fails its expectation now (TranscodeFail, not a success): {failed}" in done.stdout
    check = cli("validate", str(pinned))
    assert (check.returncode, check.stdout) == (0, "ok: 2 jobs in 1 file\n")
    audited = cli(
        "run", str(pinned), "--emulator", "examples/demo-data.yaml", "--out", str(tmp_path / "out"),
        "--state", str(tmp_path / "s.db"), "--no-progress", env=clean_env(),
    )  # fmt: skip
    assert audited.returncode == 2 and "f41ed0000000000000000000000000a1" in audited.stdout


def test_import_reads_ids_from_stdin():
    done = cli(
        "import",
        "--type",
        "ai",
        "--ids",
        "-",
        "--emulator",
        "examples/demo-data.yaml",
        env=clean_env(),
        stdin="a1ce25000000000000000000000000e5\n",
    )
    assert done.returncode == 0, done.stderr
    assert "- id: a1ce25000000000000000000000000e5" in done.stdout and "JobType: AIVideoCensor" in done.stdout


def test_report_rerenders_without_api_calls(tmp_path):
    first = tmp_path / "first"
    assert (
        cli(
            "run",
            "examples/demo.yaml",
            "--emulator",
            "examples/demo-data.yaml",
            "--out",
            str(first),
            "--state",
            str(tmp_path / "s.db"),
            env=clean_env(),
        ).returncode
        == 2
    )
    second = tmp_path / "second"
    done = cli("report", str(first / "results.json"), "--out", str(second), env=clean_env(HOME=str(tmp_path)))
    assert done.returncode == 0
    for name in ("results.csv", "mismatches.csv", "durations.csv", "results.json", "junit.xml", "summary.md"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    strip = lambda text: "\n".join(line for line in text.splitlines() if "<dt>rendered</dt>" not in line)  # noqa: E731
    assert strip((first / "report.html").read_text()) == strip((second / "report.html").read_text())
