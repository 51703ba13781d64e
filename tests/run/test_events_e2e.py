"""The demo audited from its event notifications alone, and `import --events`, through the real CLI."""

from __future__ import annotations

import pytest
import yaml

from tests.run.helpers import ROOT, cli, results

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


def test_the_demo_audited_from_its_event_log(tmp_path):
    done = cli(
        "run", "examples/demo-events.yaml", "--emulator", "examples/demo-data.yaml", "--out", str(tmp_path / "out"),
        "--state", str(tmp_path / "s.db"), "--no-progress",
    )  # fmt: skip
    assert done.returncode == 2, done.stderr
    document = results(tmp_path / "out")
    assert len(document["results"]) == 36  # each job of the log once: a repeated event adds none
    sources = {r["source"].rsplit(":", 2)[0] for r in document["results"]}
    assert sources == {"examples/demo-events.jsonl"}
    assert document["counts"]["invalid"] == 1  # the planted malformed time, found with no job listed


def test_import_reads_the_jobs_from_events(tmp_path):
    done = cli(
        "import",
        "--events",
        str(ROOT / "examples/demo-events.jsonl"),
        "--emulator",
        "examples/demo-data.yaml",
    )
    # The demo's events name a failed transcode: pinned to success all the same, said, exit 2.
    assert done.returncode == 2, done.stderr
    assert "f41ed0000000000000000000000000a1: TranscodeFail now" in done.stderr
    jobs = yaml.safe_load(done.stdout)["jobs"]
    assert len(jobs) == 36 and {j["type"] for j in jobs} == {"transcode", "snapshot", "ai", "workflow"}
    only = cli(
        "import",
        "--type",
        "workflow",
        "--events",
        "examples/demo-events.jsonl",
        "--emulator",
        "examples/demo-data.yaml",
    )
    assert {j["type"] for j in yaml.safe_load(only.stdout)["jobs"]} == {"workflow"}


def test_import_refuses_a_broken_event_log_before_any_call(tmp_path):
    log = tmp_path / "e.jsonl"
    log.write_text('{"EventType": "SnapshotComplete", "EventTime": "2026-11-24T00:00:00Z"}\n')
    done = cli("import", "--events", str(log), "--emulator", "examples/demo-data.yaml")
    assert done.returncode == 1
    assert (
        f"{log}:1:1: an event of type SnapshotComplete without its job id (SnapshotInfos[].JobId)"
        in done.stderr
    )
