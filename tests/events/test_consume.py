"""Issue #41: `vod-audit consume`, a real process draining the emulator's queue on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import sample_jobs
from tests.run.helpers import EMULATOR_ENV, ROOT, clean_env, cli, results, run_args, write_data

pytestmark = pytest.mark.slow

QUEUE = "vod-events"


def event(n: int) -> dict:
    return {"EventType": "StreamTranscodeComplete", "JobId": f"{n:032x}", "Status": "success"}


def body(n: int, encoded: bool) -> str:
    text = json.dumps(event(n))
    return base64.b64encode(text.encode()).decode() if encoded else text


@contextmanager
def consumer(url: str, folder: Path, *extra: str, limit: int | None = None):
    """`consume` as a process; its first line ('consuming …') says it has started."""

    def limited() -> None:
        if limit is not None:
            resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    log = folder.parent / f"{folder.name}.log"
    with log.open("a") as said:
        process = subprocess.Popen(
            [sys.executable, "-m", "audit", "consume", "--queue", QUEUE, "--endpoint", url,
             "--events-dir", str(folder), *extra],
            # Under a file-size limit the log is a pipe: the limit is the events folder's alone.
            stdout=subprocess.PIPE, stderr=said if limit is None else subprocess.PIPE, text=True, cwd=ROOT,
            env=clean_env(**EMULATOR_ENV),
            preexec_fn=limited,
        )  # fmt: skip
    try:
        line = process.stdout.readline() if process.stdout else ""
        assert line.startswith("consuming "), (line, log.read_text())
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


def drain(url: str, folder: Path, *extra: str) -> tuple[int, str]:
    with consumer(url, folder, "--once", *extra) as process:
        code = process.wait(timeout=300)
    return code, (folder.parent / f"{folder.name}.log").read_text()


def lines(folder: Path) -> list[bytes]:
    return [line for path in sorted(folder.glob("*.jsonl")) for line in path.read_bytes().splitlines()]


def stopped(said: str) -> dict[str, int]:
    """The counts of the last 'stopped: 5 stored, 1 duplicate, …' line."""
    last = said.strip().splitlines()[-1]
    return {what: int(n) for n, what in re.findall(r"(\d+) (\w+)", last.partition("stopped:")[2])}


def test_5000_messages_raw_and_base64_are_stored_once_and_the_queue_is_left_empty(start_emulator, tmp_path):
    emulator = start_emulator(qps=0, queue=QUEUE)
    for n in range(5000):
        emulator.queues.put(QUEUE, body(n, encoded=n % 2 == 1))
    for n in range(0, 40, 4):  # redelivered, once in the other encoding: the same event, kept once
        emulator.queues.put(QUEUE, body(n, encoded=True))
    folder, metrics = tmp_path / "events", tmp_path / "queue.prom"
    code, said = drain(emulator.url, folder, "--metrics-file", str(metrics))
    assert code == 0, said
    kept = lines(folder)
    assert len(kept) == 5000 and {json.loads(x)["JobId"] for x in kept} == {f"{n:032x}" for n in range(5000)}
    assert emulator.queues.stats()[QUEUE] == {
        "sent": 5010, "received": 5010, "deleted": 5010, "active": 0, "inactive": 0,
    }  # fmt: skip
    assert stopped(said) == {"stored": 5000, "duplicate": 10, "rejected": 0, "failed": 0}
    counted = {
        sample.labels["outcome"]: sample.value
        for family in text_string_to_metric_families(metrics.read_text())
        for sample in family.samples
        if sample.name == "vod_audit_events_total"
    }
    assert counted["stored"] == 5000 and counted["duplicate"] == 10


def test_sigkill_mid_batch_then_a_restart_loses_nothing_and_keeps_each_once(start_emulator, tmp_path):
    emulator = start_emulator(qps=0, queue=QUEUE, queue_visibility=1)
    for n in range(2000):
        emulator.queues.put(QUEUE, body(n, encoded=n % 3 == 0))
    folder = tmp_path / "events"
    with consumer(emulator.url, folder, "--wait", "1") as process:
        while len(lines(folder)) < 500:  # readiness: what it has stored so far
            assert process.poll() is None
            time.sleep(0.01)  # polling what it stored: the readiness signal
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    first = len(lines(folder))
    assert 500 <= first < 2000
    while emulator.queues.stats()[QUEUE]["inactive"]:  # what it held comes back after 1 s
        time.sleep(0.05)
    code, said = drain(emulator.url, folder)
    assert code == 0, said
    kept = lines(folder)
    assert len(kept) == len(set(kept)) == 2000
    assert {json.loads(x)["JobId"] for x in kept} == {f"{n:032x}" for n in range(2000)}
    counts = stopped(said)
    assert counts["stored"] == 2000 - first and counts["duplicate"] <= 16  # at most the batch in hand
    assert emulator.queues.stats()[QUEUE]["active"] == emulator.queues.stats()[QUEUE]["inactive"] == 0


def test_a_poison_message_lands_in_rejected_with_its_reason_and_is_deleted(start_emulator, tmp_path):
    emulator = start_emulator(qps=0, queue=QUEUE)
    poison = [
        emulator.queues.put(QUEUE, "<not json/>"),
        emulator.queues.put(QUEUE, base64.b64encode(b"[1, 2]").decode()),
    ]
    emulator.queues.put(QUEUE, body(7, encoded=False))
    folder = tmp_path / "events"
    code, said = drain(emulator.url, folder)
    assert code == 0, said
    assert [json.loads(x) for x in lines(folder)] == [event(7)]
    rejected = {
        json.loads(p.read_text())["message_id"]: json.loads(p.read_text())
        for p in (folder / "rejected").iterdir()
    }
    assert set(rejected) == set(poison)
    assert rejected[poison[0]]["body"] == "<not json/>"
    assert "neither JSON nor base64" in rejected[poison[0]]["reason"]
    assert "not a JSON object" in rejected[poison[1]]["reason"]
    assert emulator.queues.stats()[QUEUE]["deleted"] == 3 and stopped(said)["rejected"] == 2


def test_sigterm_finishes_the_batch_in_hand_and_ends_a_long_poll(start_emulator, tmp_path):
    emulator = start_emulator(qps=0, queue=QUEUE, queue_visibility=600)
    for n in range(2000):
        emulator.queues.put(QUEUE, body(n, encoded=False))
    folder = tmp_path / "events"
    with consumer(emulator.url, folder) as process:
        while len(lines(folder)) < 100:
            assert process.poll() is None
            time.sleep(0.01)  # polling what it stored: the readiness signal
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
    stats = emulator.queues.stats()[QUEUE]
    # Nothing stored is left undeleted, nothing deleted is unstored: no message was in hand at the exit.
    assert stats["deleted"] == len(lines(folder)) and stats["inactive"] == 0
    idle = tmp_path / "idle"
    with consumer(emulator.url, idle, "--wait", "30") as process:
        # It drains (every event stored), then waits in a long poll. The queue's own count is no signal:
        # it reaches 0 as the last batch is handed over, before that batch is stored.
        while len(lines(folder)) + len(lines(idle)) < 2000:
            assert process.poll() is None
            time.sleep(0.01)  # polling what it stored: the readiness signal
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0  # a 30 s long poll is cut short
    assert len(lines(folder)) + len(lines(idle)) == 2000
    left = emulator.queues.stats()[QUEUE]
    assert (left["deleted"], left["active"], left["inactive"]) == (2000, 0, 0)  # all stored were deleted


def test_a_message_that_cannot_be_stored_stays_in_the_queue(start_emulator, tmp_path):
    emulator = start_emulator(qps=0, queue=QUEUE)
    for n in range(20):
        emulator.queues.put(QUEUE, body(n, encoded=False))
    full = tmp_path / "full"
    with consumer(emulator.url, full, "--once", limit=500) as process:
        assert process.wait(timeout=60) == 1
        said = process.stderr.read() if process.stderr else ""
    assert "could not be stored" in said and "stays in the queue" in said
    kept = lines(full)
    assert 0 < len(kept) < 20 and all(json.loads(x)["JobId"] for x in kept)  # whole lines only
    stats = emulator.queues.stats()[QUEUE]
    # What was stored is deleted; the rest stays in the queue for the next start.
    assert stats["deleted"] == len(kept) and stats["active"] + stats["inactive"] == 20 - len(kept)


def test_the_emulator_queues_events_as_vod_and_the_audit_reads_what_the_consumer_kept(tmp_path):
    data = write_data(tmp_path / "data.json", sample_jobs())
    emulator = subprocess.Popen(
        [sys.executable, "-m", "audit", "emulator", "--port", "0", "--data", str(data), "--qps", "0",
         "--queue", QUEUE, "--queue-base64"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT, env=clean_env(),
    )  # fmt: skip
    try:
        url = emulator.stdout.readline().split()[-1] if emulator.stdout else ""
        said = ""
        while "events put" not in said:  # its readiness signal: the line that says what it queued
            said = emulator.stderr.readline() if emulator.stderr else ""
            assert said or emulator.poll() is None, "the emulator ended"
        assert f"{len(sample_jobs())} events put" in said
        folder = tmp_path / "events"
        code, log = drain(url, folder)
        assert code == 0, log
        manifest = tmp_path / "m.yaml"
        manifest.write_text(f"version: 1\njobs_from:\n  - events: {folder}/*.jsonl\n")
        done = cli(*run_args(manifest, tmp_path / "out", url))
    finally:
        emulator.terminate()
        emulator.wait(timeout=30)
    assert done.returncode == 0, done.stderr
    assert len(results(tmp_path / "out")["results"]) == len(sample_jobs())


def test_wrong_keys_or_an_unreachable_endpoint_stop_at_once_with_one_sentence(start_emulator, tmp_path):
    emulator = start_emulator(qps=0, queue=QUEUE)
    emulator.queues.put(QUEUE, body(1, encoded=False))
    args = ("consume", "--queue", QUEUE, "--events-dir", str(tmp_path / "e"), "--once")
    wrong = cli(
        *args,
        "--endpoint",
        emulator.url,
        env=clean_env(**{**EMULATOR_ENV, "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "nope"}),
    )
    assert (
        wrong.returncode == 1 and "SignatureDoesNotMatch" in wrong.stderr and "Traceback" not in wrong.stderr
    )
    assert "nope" not in wrong.stderr + wrong.stdout
    gone = cli(*args, "--endpoint", "http://127.0.0.1:9")
    assert gone.returncode == 1 and "cannot connect to http://127.0.0.1:9" in gone.stderr
    bad = cli(*args, "--endpoint", emulator.url, "--queue", "-not-a-name")
    assert bad.returncode == 1 and "a queue name is letters" in bad.stderr
    assert emulator.queues.stats()[QUEUE]["active"] == 1  # nothing taken
