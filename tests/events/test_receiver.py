"""Issue #41: `vod-audit receive`, a real server on 127.0.0.1 driven by signed deliveries over HTTP."""

from __future__ import annotations

import json
import os
import resource
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests

from audit.common.timeutil import format_utc
from audit.vod.callback import callback_signature as signature
from tests.conftest import sample_jobs
from tests.run.helpers import ROOT, clean_env, cli, results, run_args

pytestmark = pytest.mark.slow

KEY = "auth-key-7f3a9c"  # the AuthKey: never in a log line or a file
CALLBACK = "https://vod-events.example.com/callback"


@contextmanager
def receiver(
    folder: Path, *extra: str, limit: int | None = None, listen: str = "127.0.0.1:0", callback: str = CALLBACK
):
    """The receiver as a process; its 'listening on' line is the readiness signal."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    log = folder.parent / f"{folder.name}.log"  # a file, not a pipe: 2,000 log lines never block it
    with log.open("w") as said:
        process = subprocess.Popen(
            [sys.executable, "-m", "audit", "receive", "--listen", listen, "--events-dir", str(folder),
             "--callback-url", callback,
             *(() if "--auth-key-file" in extra else ("--auth-key-env", "VOD_AUTH_KEY")), *extra],
            stdout=subprocess.PIPE, stderr=said, text=True, cwd=ROOT,
            env=clean_env(VOD_AUTH_KEY=KEY), preexec_fn=limited,
        )  # fmt: skip
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("listening on "), (line, log.read_text())
        yield process, line.split()[-1]
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)


def deliver(url: str, event: dict, *, stamp: int | None = None, key: str = KEY, signed: bool = True) -> int:
    stamp = int(time.time()) if stamp is None else stamp
    headers = (
        {"X-VOD-TIMESTAMP": str(stamp), "X-VOD-SIGNATURE": signature(CALLBACK, str(stamp), key)}
        if signed
        else {}
    )
    return requests.post(url + "/", data=json.dumps(event, indent=2), headers=headers, timeout=30).status_code


def events_of(bodies: list[dict]) -> list[dict]:
    """One completion event per sample job, in each type's own shape (the events source's reference)."""
    now = format_utc(datetime.now(UTC).replace(microsecond=0))
    made = []
    for body in bodies:
        detail = next(v for k, v in body.items() if k.endswith("Detail"))
        kind, job_id = body["JobType"], detail.get("JobId") or detail.get("TaskId")
        event = {
            "transcode": {"EventType": "StreamTranscodeComplete", "JobId": job_id, "Status": "success"},
            "snapshot": {
                "EventType": "SnapshotComplete",
                "SnapshotInfos": [{"JobId": job_id, "Status": "success"}],
            },
            "ai": {"EventType": "AIMediaAuditComplete", "JobId": job_id, "Status": "success"},
            "workflow": {"EventType": "WorkflowTaskComplete", "TaskId": job_id, "Status": "Succeed"},
        }[kind]
        made.append({**event, "EventTime": now, "VideoId": "v"})
    return made


def stored(folder: Path) -> list[dict]:
    return [
        json.loads(line) for path in sorted(folder.glob("*.jsonl")) for line in path.read_text().splitlines()
    ]


def test_signed_events_are_stored_once_and_audited_and_the_rest_refused(start_emulator, tmp_path):
    folder = tmp_path / "events"
    events = events_of(sample_jobs())
    with receiver(folder) as (process, url):
        assert requests.get(url + "/healthz", timeout=5).status_code == 200
        assert [deliver(url, e) for e in events] == [200] * len(events)
        assert deliver(url, events[0]) == 200  # VOD retries: answered, stored once
        now = int(time.time())
        refused = [
            deliver(url, {"EventType": "x1"}, signed=False),
            deliver(url, {"EventType": "x2"}, key="another-key"),
            deliver(url, {"EventType": "x3"}, stamp=now - 301),
            deliver(url, {"EventType": "x4"}, stamp=now + 301),
        ]
        # Two different events signed in the same second carry the same signature: both stored.
        same_second = [deliver(url, {"EventType": "Same", "n": n}, stamp=now) for n in (1, 2)]
        odd = [
            requests.put(url + "/", data="{}", timeout=5).status_code,
            requests.post(url + "/", data="not json", headers={"X-VOD-TIMESTAMP": str(now), "X-VOD-SIGNATURE": signature(CALLBACK, str(now), KEY)}, timeout=5).status_code,
            requests.post(url + "/", data="x" * ((1 << 20) + 1), timeout=30).status_code,
        ]  # fmt: skip
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=30)
    said = (tmp_path / "events.log").read_text()
    assert refused == [403] * 4 and same_second == [200, 200] and odd == [405, 400, 413]
    kept = stored(folder)
    assert kept == [*events, {"EventType": "Same", "n": 1}, {"EventType": "Same", "n": 2}]
    assert [p.name for p in folder.iterdir()] == [f"{datetime.now(UTC):%Y-%m-%d}.jsonl"]
    assert KEY not in said and all(KEY not in p.read_text() for p in folder.iterdir())
    assert said.count(": stored") == len(events) + 2 and said.count(": duplicate") == 1
    assert (
        "refused (403): X-VOD-SIGNATURE does not match" in said and "x2" not in said
    )  # no body in a log line
    # A run over the files audits the jobs the events named.
    emulator = start_emulator(qps=0)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(f"version: 1\njobs_from:\n  - events: {folder}/*.jsonl\n")
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url))
    assert done.returncode == 0, done.stderr
    assert len(results(tmp_path / "out")["results"]) == len(sample_jobs())


def test_2000_deliveries_from_16_clients_are_all_answered_and_stored_once(tmp_path):
    folder = tmp_path / "events"
    with receiver(folder) as (_, url):
        events = [{"EventType": "StreamTranscodeComplete", "JobId": f"{n:032x}"} for n in range(2000)]
        with ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(lambda e: deliver(url, e), events))
        scraped = requests.get(url + "/metrics", timeout=5).text
    assert answers == [200] * 2000
    assert 'vod_audit_events_total{outcome="stored",route="http"} 2000.0' in scraped
    kept = stored(folder)
    assert len(kept) == 2000 and {e["JobId"] for e in kept} == {e["JobId"] for e in events}


def test_an_event_answered_200_survives_sigkill_and_a_full_disk_is_503_with_nothing_half_written(tmp_path):
    folder = tmp_path / "events"
    with receiver(folder) as (process, url):
        assert deliver(url, {"EventType": "StreamTranscodeComplete", "JobId": "a" * 32}) == 200
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    assert stored(folder) == [{"EventType": "StreamTranscodeComplete", "JobId": "a" * 32}]
    full = tmp_path / "full"
    with receiver(full, limit=4096) as (_, url):
        small = deliver(url, {"EventType": "StreamTranscodeComplete", "JobId": "b" * 32})
        big = deliver(url, {"EventType": "StreamTranscodeComplete", "JobId": "c" * 32, "Pad": "x" * 8000})
    assert (small, big) == (200, 503)
    day = next(full.glob("*.jsonl")).read_bytes()
    assert day.endswith(b"\n") and [json.loads(x)["JobId"] for x in day.splitlines()] == ["b" * 32]


def test_the_key_comes_from_the_environment_or_a_file_never_the_command_line(tmp_path):
    done = cli("receive", "--events-dir", str(tmp_path), "--callback-url", CALLBACK)
    assert done.returncode == 1 and "--auth-key-env NAME or --auth-key-file PATH" in done.stderr
    missing = cli(
        "receive", "--events-dir", str(tmp_path), "--callback-url", CALLBACK, "--auth-key-env", "NOPE_X"
    )
    assert (
        missing.returncode == 1 and "environment variable NOPE_X (the AuthKey) is not set" in missing.stderr
    )
    assert cli("receive", "--auth-key", KEY).returncode == 1  # no such option
    key_file = tmp_path / "key"
    key_file.write_text("")
    empty = cli(
        "receive", "--events-dir", str(tmp_path), "--callback-url", CALLBACK, "--auth-key-file", str(key_file)
    )
    assert empty.returncode == 1 and f"{key_file} (the AuthKey) is empty" in empty.stderr


def test_the_key_may_come_from_a_file(tmp_path):
    key_file = tmp_path / "key"
    key_file.write_text(KEY + "\n")
    folder = tmp_path / "events"
    with receiver(folder, "--auth-key-file", str(key_file)) as (_, url):
        assert deliver(url, {"EventType": "StreamTranscodeComplete", "JobId": "d" * 32}) == 200
        assert deliver(url, {"EventType": "StreamTranscodeComplete", "JobId": "e" * 32}, key="other") == 403
    assert stored(folder) == [{"EventType": "StreamTranscodeComplete", "JobId": "d" * 32}]


def test_the_emulator_calls_back_as_vod_and_the_audit_reads_what_the_receiver_kept(tmp_path):
    import socket

    from tests.run.helpers import write_data

    folder = tmp_path / "events"
    data = write_data(tmp_path / "data.json", sample_jobs())
    with socket.socket() as probe:  # the URL VOD is given is the one it signs: known before the start
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with receiver(folder, listen=f"127.0.0.1:{port}", callback=f"http://127.0.0.1:{port}/") as (_, url):
        emulator = subprocess.Popen(
            [sys.executable, "-m", "audit", "emulator", "--port", "0", "--data", str(data), "--qps", "0",
             "--callback-url", url + "/", "--auth-key-env", "VOD_AUTH_KEY"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=clean_env(VOD_AUTH_KEY=KEY),
        )  # fmt: skip
        try:
            listening = emulator.stdout.readline().split()[-1] if emulator.stdout else ""
            said = ""
            while "callbacks to" not in said:  # its readiness signal: the line that says what it sent
                said = emulator.stderr.readline() if emulator.stderr else ""
                assert said or emulator.poll() is None, "the emulator ended"
            assert f"{len(sample_jobs())} delivered, 0 not" in said
            manifest = tmp_path / "m.yaml"
            manifest.write_text(f"version: 1\njobs_from:\n  - events: {folder}/*.jsonl\n")
            done = cli(*run_args(manifest, tmp_path / "out", listening))
        finally:
            emulator.terminate()
            emulator.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert len(results(tmp_path / "out")["results"]) == len(sample_jobs())
