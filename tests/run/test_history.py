"""Night over night: three runs on one state with manifest edits between them, and one cut short."""

from __future__ import annotations

import json
import signal
import threading
import time

import pytest
import yaml

from audit.emulator.data import job_identity
from tests.conftest import sample_jobs
from tests.hostile import hostile, json_reply
from tests.run.helpers import cli, popen, results

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

BODIES = {job_identity(b)[0]: b for b in sample_jobs()}
IDS = {kind: job_identity(b)[1] for kind, b in BODIES.items()}


class Server:
    """Answers every job from the sample bodies; `delay` slows each answer (to cut a run short);
    `asked` is set by every request (a run is under way, its signal handlers in place)."""

    def __init__(self) -> None:
        self.delay = 0.0
        self.asked = threading.Event()

    def __call__(self, query):
        self.asked.set()
        time.sleep(self.delay)
        return json_reply({"RequestId": "R", **BODIES[query["JobType"]]})


def write(tmp_path, transcode: dict, snapshot: dict):
    jobs = [
        {"id": IDS["transcode"], "type": "transcode", "expect": transcode},
        {"id": IDS["snapshot"], "type": "snapshot", "expect": snapshot},
    ]
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"version": 1, "jobs": jobs}))


def audit(tmp_path, url, name, *flags):
    out = tmp_path / name
    done = cli(
        "run", str(tmp_path / "m.yaml"), "--endpoint", url, "--out", str(out), "--state", str(tmp_path / "s.db"),
        "--no-progress", *flags,
    )  # fmt: skip
    return done, results(out)


def by_type(document):
    return {r["job_type"]: r for r in document["results"]}


def test_changes_first_seen_and_the_new_gate_over_three_runs(tmp_path):
    server = Server()
    with hostile(server) as url:
        write(tmp_path, {"TemplateId": "wrong"}, {"Status": "Success"})
        done, first = audit(tmp_path, url, "one")
        assert done.returncode == 2 and first["changes"] == {"new": 1, "ongoing": 0, "resolved": 0}
        assert (
            by_type(first)["transcode"]["change"] == "new" and by_type(first)["snapshot"]["change"] == "clean"
        )
        assert by_type(first)["transcode"]["findings"][0]["first_seen"] == first["started_at"]

        done, second = audit(tmp_path, url, "two", "--fail-on", "new")
        assert by_type(second)["transcode"]["change"] == "ongoing"
        assert by_type(second)["transcode"]["findings"][0]["first_seen"] == first["started_at"]
        assert done.returncode == 0  # ongoing findings alone pass the new-only gate
        assert "new 0  resolved 0  ongoing 1" in done.stdout

        # Cut short: kept in the history, never what the next run compares to.
        write(tmp_path, {"TemplateId": "still wrong"}, {"Status": "Fail"})
        server.delay = 5.0  # longer than the grace SIGTERM gives calls in flight
        server.asked.clear()
        process = popen(
            "run", str(tmp_path / "m.yaml"), "--endpoint", url, "--out", str(tmp_path / "cut"), "--state",
            str(tmp_path / "s.db"), "--qps", "1", "--concurrency", "1", "--no-progress", "--refresh",
        )  # fmt: skip
        assert server.asked.wait(timeout=30)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) in (2, 3)
        assert results(tmp_path / "cut")["incomplete"]
        server.delay = 0.0

        # The expectation fixed resolves the transcode finding; the snapshot's new one fails the gate.
        write(
            tmp_path,
            {"TemplateId": BODIES["transcode"]["TranscodeJobDetail"]["TemplateId"]},
            {"Status": "Fail"},
        )
        done, third = audit(tmp_path, url, "three", "--fail-on", "new")
        jobs = by_type(third)
        assert jobs["transcode"]["change"] == "resolved" and jobs["snapshot"]["change"] == "new"
        assert third["changes"] == {"new": 1, "ongoing": 0, "resolved": 1}
        assert done.returncode == 2
        assert [point["status"] for point in third["trend"]] == [
            "complete",
            "complete",
            "incomplete",
            "complete",
        ]

    history = cli("history", "--state", str(tmp_path / "s.db"), "--format", "json")
    runs = json.loads(history.stdout)["runs"]
    assert [run["status"] for run in runs] == ["complete", "complete", "incomplete", "complete"]
    assert runs[-1]["changes"] == {"new": 1, "ongoing": 0, "resolved": 1} and runs[0]["calls"] == 2
    last = cli("history", "--state", str(tmp_path / "s.db"), "--last", "1", "--format", "csv")
    assert len(last.stdout.splitlines()) == 2 and last.stdout.startswith("audit,run_id,started_at")
    table = cli("history", "--state", str(tmp_path / "s.db"))
    assert table.returncode == 0 and table.stdout.count("complete") == 4  # incomplete too ends with it


def test_history_needs_a_state(tmp_path):
    done = cli("history", "--state", str(tmp_path / "none.db"))
    assert done.returncode == 1 and "no state there yet" in done.stderr
