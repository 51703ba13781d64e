"""Truth under an unlucky operator: failing disks, odd files, odd flags, closed pipes and hang-ups.

Each case ends with a clear message and the documented exit code, never a traceback or a hang, and
never with a report folder that mixes two runs.
"""

from __future__ import annotations

import hashlib
import json
import os
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
import yaml

from audit.emulator.data import job_identity
from tests.conftest import sample_jobs
from tests.hostile import hostile, json_reply
from tests.run.helpers import EMULATOR_ENV, ROOT, clean_env, cli, popen, write_data, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


def _limited(limit: int):
    def apply() -> None:
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def run_limited(limit: int, *args: str) -> subprocess.CompletedProcess[str]:
    """`vod-audit ARGS` allowed to write no file beyond `limit` bytes (Python ignores SIGXFSZ, so a
    write past it fails with EFBIG, as on a full disk)."""
    return subprocess.run(
        [sys.executable, "-m", "audit", *args],
        capture_output=True,
        text=True,
        env=clean_env(**EMULATOR_ENV),
        cwd=ROOT,
        timeout=180,
        preexec_fn=_limited(limit),
    )


def demo(tmp_path: Path, count: int = 40) -> tuple[Path, Path]:
    from audit.emulator.generate import generate

    bodies = [b for b in generate(count, 9, None)]
    return write_manifest(tmp_path / "m.yaml", bodies), write_data(tmp_path / "data.json", bodies)


def digests(folder: Path) -> dict[str, str]:
    return {
        p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()
    }


def test_a_report_set_that_cannot_be_written_leaves_the_previous_set_whole(tmp_path):
    manifest, data = demo(tmp_path, 200)
    out = tmp_path / "out"
    first = cli(
        "run", str(manifest), "--emulator", str(data), "--out", str(out), "--state", str(tmp_path / "s.db")
    )
    assert first.returncode in (0, 2, 3), first.stderr
    before = digests(out)
    assert (
        "SHA256SUMS" in before and len(before) == 11
    )  # eight reports, evidence.json, the statement, the seal
    sums = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=out, capture_output=True, text=True)
    assert sums.returncode == 0, sums.stdout
    # Small reports fit under the limit, results.json does not: the disk "fills" partway through.
    # The state is the first run's, and SQLite's shared-memory file takes 32 KiB: 96 KiB fits both.
    assert (out / "results.json").stat().st_size > 150_000
    second = run_limited(
        96 << 10, "run", str(manifest), "--emulator", str(data), "--out", str(out),
        "--state", str(tmp_path / "s.db"),
    )  # fmt: skip
    assert second.returncode == 1 and "Traceback" not in second.stderr
    assert "the reports could not be written (File too large)" in second.stderr
    assert "the reports already there are unchanged" in second.stderr
    assert "audited 200 of 200 jobs" in second.stdout  # what was found is said, at least on the console
    assert digests(out) == before  # the previous set, whole: no new report.html beside an old results.json


def test_a_set_cut_short_in_process_leaves_the_previous_set(tmp_path, monkeypatch):
    import errno

    from audit.report import FORMAT_NAMES, ReportsNotWritten, write_reports
    from audit.report.json_file import JsonReport
    from tests.report.fixtures import fixed_run

    write_reports(fixed_run(), tmp_path, FORMAT_NAMES)
    before = digests(tmp_path)

    def full(self, run, out):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(JsonReport, "write", full)
    with pytest.raises(ReportsNotWritten, match="No space left on device"):
        write_reports(fixed_run(), tmp_path, FORMAT_NAMES)
    assert digests(tmp_path) == before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no staging left


def test_a_state_that_cannot_be_written_is_a_clear_error_and_the_reports_are_still_written(tmp_path):
    manifest, data = demo(tmp_path)
    out, state = tmp_path / "out", tmp_path / "state" / "s.db"
    state.parent.mkdir()
    # SQLite grows the database in pages: 70 KB holds the tables (their pages logged in the WAL), not
    # forty answers.
    # Only results.json (and evidence.json): the limit applies to every file, and the page of every
    # job with its answer is larger than the state's share.
    done = run_limited(
        70_000, "run", str(manifest), "--emulator", str(data), "--out", str(out), "--state", str(state),
        "--format", "json",
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    if (out / "results.json").stat().st_size > 70_000:
        pytest.fail("results.json outgrew the limit meant for the state")
    assert done.returncode == 1
    assert "the state could not be written" in done.stderr and "answers not stored" in done.stderr
    document = json.loads((out / "results.json").read_text())
    assert len(document["results"]) == 40 and document["state_error"]


def test_a_report_name_taken_by_a_folder_is_refused_before_any_call(tmp_path):
    manifest, data = demo(tmp_path, 5)
    (tmp_path / "out" / "report.html").mkdir(parents=True)
    done = cli("run", str(manifest), "--emulator", str(data), "--out", str(tmp_path / "out"))
    assert done.returncode == 1
    assert (
        done.stderr.strip()
        == f"vod-audit: --out {tmp_path / 'out'}: report.html there is not a regular file; move it away"
    )


def test_a_state_path_that_is_a_report_is_refused(tmp_path):
    manifest, data = demo(tmp_path, 5)
    out = tmp_path / "out"
    done = cli(
        "run", str(manifest), "--emulator", str(data), "--out", str(out), "--state", str(out / "results.json")
    )
    assert done.returncode == 1 and "a report this run writes" in done.stderr
    assert not (out / "results.json").exists()


def test_an_endpoint_with_a_password_is_refused_without_showing_it(tmp_path):
    manifest, _ = demo(tmp_path, 5)
    done = cli(
        "run", str(manifest), "--endpoint", "http://audit:Pa55-w0rd@127.0.0.1:9", "--out", str(tmp_path / "o")
    )
    assert done.returncode == 1 and "must not carry a user name or password" in done.stderr
    assert "Pa55-w0rd" not in done.stdout + done.stderr
    assert not (tmp_path / "o" / "results.json").exists()


def test_a_closed_pipe_keeps_the_audits_exit_code(tmp_path):
    manifest, data = demo(tmp_path, 5)
    process = popen("run", str(manifest), "--emulator", str(data), "--out", str(tmp_path / "out"))
    process.stdout.readline()  # `| head -1`: one line, then the reader is gone
    process.stdout.close()
    code = process.wait(timeout=120)
    stderr = process.stderr.read()
    expected = json.loads((tmp_path / "out" / "results.json").read_text())["exit_code"]
    assert code == expected and "BrokenPipe" not in stderr and "internal error" not in stderr


def test_sighup_is_handled_like_sigterm(tmp_path):
    bodies = sample_jobs()
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    document = {b["JobType"]: b for b in bodies}

    asked = threading.Event()  # a call arrived: the run is under way, its signal handlers in place

    def slow(query):
        asked.set()
        time.sleep(0.3)
        return json_reply({"RequestId": "R", **document[query["JobType"]]})

    with hostile(slow) as url:
        process = popen(
            "run", str(manifest), "--endpoint", url, "--out", str(tmp_path / "out"), "--qps", "1",
            "--concurrency", "1", "--state", str(tmp_path / "s.db"), "--no-progress",
        )  # fmt: skip
        assert asked.wait(timeout=30)
        process.send_signal(signal.SIGHUP)
        code = process.wait(timeout=30)
    assert code == 3 and "SIGHUP" in process.stderr.read()
    assert json.loads((tmp_path / "out" / "results.json").read_text())["incomplete"]
    import sqlite3

    statuses = [row[0] for row in sqlite3.connect(tmp_path / "s.db").execute("SELECT status FROM runs")]
    assert statuses == ["incomplete"]


def test_control_characters_from_the_server_never_reach_the_terminal(tmp_path):
    hostile_text = "\x1b[2J\x1b]0;pwned\x07verdict: PASS\u202e"
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": [{"id": "j1", "type": "ai"}]}))
    error = {"RequestId": hostile_text, "Code": "Forbidden.Job" + hostile_text, "Message": hostile_text}
    with hostile(lambda query: json_reply(error, status=403)) as url:
        run = cli(
            "run", str(manifest), "--endpoint", url, "--out", str(tmp_path / "o"), "-vv", "--retries", "0"
        )
        imported = cli(
            "import", "--type", "ai", "--ids", "-", "--endpoint", url, "--retries", "0", stdin="j1"
        )
    for done in (run, imported):
        printed = done.stdout + done.stderr
        assert "\x1b" not in printed and "\x07" not in printed and "\u202e" not in printed
        assert "\\x1b[2J" in printed  # shown, as an escape


def test_a_minified_json_manifest_and_deep_nesting_are_no_bomb(tmp_path, vod_audit):
    jobs = [
        {"id": f"{i:032x}", "type": "transcode", "expect": {"Status": "TranscodeSuccess"}}
        for i in range(5000)
    ]
    (tmp_path / "m.json").write_text(json.dumps({"version": 1, "jobs": jobs}))
    assert vod_audit("validate", str(tmp_path / "m.json")).stdout == "ok: 5000 jobs in 1 file\n"
    deep = "version: 1\nvars:\n  x: " + "[" * 900 + "]" * 900 + "\njobs: []\n"
    (tmp_path / "deep.yaml").write_text(deep)
    assert vod_audit("validate", str(tmp_path / "deep.yaml")).returncode == 0


def test_many_includes_are_each_read_once(tmp_path, vod_audit):
    count = 3000
    lines = "".join(f"  - i{i}.yaml\n" for i in range(count))
    (tmp_path / "m.yaml").write_text(f"version: 1\ninclude:\n{lines}  - i0.yaml\n")
    for i in range(count):
        (tmp_path / f"i{i}.yaml").write_text(f"jobs:\n  - id: 'a{i:031x}'\n    type: transcode\n")
    done = vod_audit("validate", str(tmp_path / "m.yaml"))
    assert done.stdout == f"ok: {count} jobs in {count + 1} files\n"


def test_devices_and_pipes_are_refused_as_inputs(tmp_path):
    fifo = tmp_path / "pipe.yaml"
    os.mkfifo(fifo)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\ninclude: [pipe.yaml, /dev/zero]\njobs_from:\n  - csv: /dev/urandom\njobs: []\n"
    )
    done = cli("validate", str(manifest), timeout=60)
    assert done.returncode == 1
    assert done.stdout.count("not a regular file (a device, pipe or socket)") == 3


def test_a_config_file_that_is_a_pipe_is_refused(tmp_path):
    home = tmp_path / "home"
    (home / ".aliyun").mkdir(parents=True)
    os.mkfifo(home / ".aliyun" / "config.json", 0o600)
    manifest, _ = demo(tmp_path, 2)
    done = cli(
        "run",
        str(manifest),
        "--profile",
        "p",
        "--out",
        str(tmp_path / "o"),
        env=clean_env(HOME=str(home)),
        timeout=60,
    )
    assert done.returncode == 1 and "not a regular file" in done.stderr


def test_a_csv_cell_over_128_kib_is_a_clear_problem(tmp_path, vod_audit):
    (tmp_path / "jobs.csv").write_text("id,type,TemplateId\nj,transcode," + "x" * 200_000 + "\n")
    (tmp_path / "m.yaml").write_text("version: 1\njobs_from:\n  - csv: jobs.csv\n")
    done = vod_audit("validate", str(tmp_path / "m.yaml"))
    assert done.returncode == 1
    assert done.stdout.startswith(
        f"{tmp_path / 'jobs.csv'}:2:1: not a CSV job list: field larger than field limit"
    )


def test_import_says_which_values_it_could_not_pin(tmp_path):
    document = sample_jobs()[0]
    document["TranscodeJobDetail"]["Status"] = "TranscodeQueued"  # a value the reference does not list
    job_id = job_identity(document)[1]
    with hostile(lambda query: json_reply({"RequestId": "R", **document})) as url:
        done = cli("import", "--type", "transcode", "--ids", "-", "--endpoint", url, stdin=job_id)
    assert done.returncode == 2
    assert (
        f"transcode {job_id}: not pinned: 'TranscodeQueued' is not a Status of transcode jobs" in done.stderr
    )
    assert yaml.safe_load(done.stdout)["jobs"][0]["id"] == job_id
