"""Data files (good, bad, rebased), the generator, and `vod-audit emulator` as a real process."""

from __future__ import annotations

import collections
import json
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from audit.common.timeutil import parse_utc
from audit.emulator.data import load_data_file
from audit.emulator.generate import generate
from audit.schema.validate import validate_response

ROOT = Path(__file__).resolve().parents[2]


def run(*args, timeout=30):
    return subprocess.run(
        [sys.executable, "-m", "audit", *args], capture_output=True, text=True, timeout=timeout
    )


@pytest.mark.parametrize(
    ("content", "suffix", "message"),
    [
        ("jobs: [\n  {JobType: ai\n", ".yaml", ":3:1: not valid YAML"),
        ("{]", ".json", ":1:2: not valid JSON"),
        ("- a\n- b\n", ".yaml", ": expected a mapping with a `jobs:` list"),
        (
            "jobs:\n  - {JobType: transcode}\n",
            ".yaml",
            ": entry 1: no TranscodeJobDetail object for JobType transcode",
        ),
        (
            "jobs:\n  - {JobType: live}\n",
            ".yaml",
            ": entry 1: JobType must be one of transcode, snapshot, ai, workflow, got 'live'",
        ),
        ("jobs:\n  - 42\n", ".yaml", ": entry 1: expected a GetJobDetail body (a mapping), got int"),
        (
            "jobs:\n  - {JobType: ai, AIJobDetail: {Status: success}}\n",
            ".yaml",
            ": entry 1: AIJobDetail.JobId is missing or not a string",
        ),
        (
            "jobs:\n  - {JobType: ai, AIJobDetail: {JobId: a}}\n  - {JobType: ai, AIJobDetail: {JobId: a}}\n",
            ".yaml",
            ": entry 2: duplicate job ai a",
        ),
        (
            "time_anchor: yesterday\njobs: []\n",
            ".yaml",
            ": time_anchor 'yesterday' is not a YYYY-MM-DDTHH:mm:ssZ time",
        ),
    ],
)
def test_bad_data_files_are_refused_at_start(tmp_path, content, suffix, message):
    path = tmp_path / f"data{suffix}"
    path.write_text(content)
    done = run("emulator", "--port", "0", "--data", str(path))
    assert done.returncode == 1
    assert done.stderr.strip().startswith(f"vod-audit: {path}{message}")
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr and "listening" not in done.stdout


def test_time_anchor_rebases_well_formed_times_only(tmp_path):
    path = tmp_path / "data.yaml"
    path.write_text(
        "time_anchor: '2026-01-01T00:00:00Z'\njobs:\n"
        "  - {JobType: transcode, TranscodeJobDetail: {JobId: a, Status: Transcoding, CreateTime: '2025-12-31T23:00:00Z'}}\n"
        "  - {JobType: ai, AIJobDetail: {JobId: b, Status: success, CreateTime: '2025-12-31T23:00:00Z',"
        ' CompleteTime: "2025-12-31T23:00:09Z\\n"}}\n'
    )
    now = datetime(2026, 6, 1, 12, 0, 0, tzinfo=UTC)
    jobs = load_data_file(path, now=now)
    assert jobs[("transcode", "a")].body["TranscodeJobDetail"]["CreateTime"] == "2026-06-01T11:00:00Z"
    assert jobs[("ai", "b")].body["AIJobDetail"]["CompleteTime"] == "2025-12-31T23:00:09Z\n"


def test_demo_dataset_loads_with_its_planted_anomaly():
    jobs = load_data_file(ROOT / "examples" / "demo-data.yaml")
    assert 30 <= len(jobs) <= 45
    assert {t for t, _ in jobs} == {"transcode", "snapshot", "ai", "workflow"}
    invalid = [
        key
        for key, job in jobs.items()
        if any(v.severity == "violation" for v in validate_response({"RequestId": "r", **job.body}))
    ]
    assert invalid == [("ai", "6ad71e000000000000000000000000f6")]


def test_generator_is_deterministic_and_realistic():
    anchor = datetime(2026, 11, 1, tzinfo=UTC)
    first, second = generate(2000, 7, anchor), generate(2000, 7, anchor)
    assert first == second
    assert generate(50, 8, anchor) != generate(50, 7, anchor)
    assert collections.Counter(b["JobType"] for b in first).keys() == {
        "transcode",
        "snapshot",
        "ai",
        "workflow",
    }
    statuses = collections.Counter(
        next(v for k, v in b.items() if k.endswith("Detail"))["Status"] for b in first
    )
    assert {"TranscodeSuccess", "TranscodeFail", "TranscodeCancelled", "Transcoding"} <= statuses.keys()
    assert statuses["TranscodeSuccess"] > statuses["TranscodeFail"] > 0
    for document in first:
        assert validate_response({"RequestId": "r", **document}) == ()  # no violation, warning or note
        detail = next(v for k, v in document.items() if k.endswith("Detail"))
        created = parse_utc(detail["CreateTime"])
        assert anchor - timedelta(days=30) <= created <= anchor
    transcodes = [
        b["TranscodeJobDetail"]
        for b in first
        if b["JobType"] == "transcode"
        and "CompleteTime" in b["TranscodeJobDetail"]
        and b["TranscodeJobDetail"]["Status"] == "TranscodeSuccess"
    ]
    by_definition = collections.defaultdict(list)
    for detail in transcodes:
        seconds = (parse_utc(detail["CompleteTime"]) - parse_utc(detail["CreateTime"])).total_seconds()
        by_definition[detail["Definition"]].append(seconds)
    median = {d: sorted(v)[len(v) // 2] for d, v in by_definition.items()}
    assert median["LD"] < median["HD"] < median["4K"]  # durations differ by definition


def test_generated_shapes_follow_their_sources():
    bodies = generate(400, 11, datetime(2026, 11, 1, tzinfo=UTC))
    for document in bodies:
        detail = next(v for k, v in document.items() if k.endswith("Detail"))
        if document["JobType"] == "workflow":
            nodes = json.loads(detail["ActivityResults"])
            start = nodes.pop("Act_Start")
            assert start["ActivityId"] == "start" and "EndTime" not in start
            for node in nodes.values():
                assert {
                    "ActivityId",
                    "ActivityInstanceId",
                    "StartTime",
                    "EndTime",
                    "Result",
                    "Status",
                } <= node.keys()
                assert isinstance(json.loads(node["Result"]), dict) and node["Status"] in (
                    "Succeed",
                    "Failed",
                )
            assert detail["Workflow"]["WorkflowId"].startswith("vw_")
        if document["JobType"] == "ai":
            config = json.loads(detail["TemplateConfig"])
            assert ("AuditItem" in config) is (detail["JobType"] == "AIVideoCensor")
        if document["JobType"] == "snapshot":
            assert len(detail["JobId"]) == 32 and detail["VideoId"].endswith("0102")
    failed = [
        json.loads(b["WorkflowTaskDetail"]["ActivityResults"])
        for b in bodies
        if b["JobType"] == "workflow" and b["WorkflowTaskDetail"]["Status"] == "Failed"
    ]
    assert failed and all(list(nodes.values())[-1]["Status"] == "Failed" for nodes in failed)


def test_emulator_process_serves_then_stops_on_sigterm():
    process = subprocess.Popen(
        [sys.executable, "-m", "audit", "emulator", "--port", "0", "--jobs", "20", "--seed", "3"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        first = process.stdout.readline().strip()
        assert first.startswith("listening on http://127.0.0.1:")
        url = first.removeprefix("listening on ")
        stats = requests.get(f"{url}/_emulator/stats", timeout=5).json()
        assert stats["total"] == 0
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        process.kill()
        process.wait()


def test_the_generated_jobs_are_listed_for_a_manifest(tmp_path):
    """Issue 26, item 10: `--jobs 300` then a manifest of those jobs: the list is written for it."""
    listing = tmp_path / "jobs.csv"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "audit",
            "emulator",
            "--port",
            "0",
            "--jobs",
            "40",
            "--jobs-csv",
            str(listing),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = process.stdout.readline().strip().removeprefix("listening on ")
        assert listing.read_text().startswith("id,type\n") and len(listing.read_text().splitlines()) == 41
        manifest = tmp_path / "m.yaml"
        manifest.write_text("version: 1\njobs_from:\n  - csv: jobs.csv\n")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")},
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "emulator-ak",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "emulator-secret",
        }
        done = subprocess.run(
            [sys.executable, "-m", "audit", "run", str(manifest), "--endpoint", url, "--out", str(tmp_path / "out"),
             "--no-progress"],
            capture_output=True, text=True, timeout=120, env=env,
        )  # fmt: skip
        assert done.returncode in (0, 2), done.stderr
        document = json.loads((tmp_path / "out" / "results.json").read_text())
        assert len(document["results"]) == 40 and document["counts"]["not_found"] == 0
    finally:
        process.kill()
        process.wait()


def test_emulator_flags_are_checked():
    done = run("emulator", "--jobs", "1", "--faults", "internal,meteor")
    assert done.returncode == 1 and "unknown fault kind meteor" in done.stderr
    done = run("emulator", "--port", "0")
    assert done.returncode == 1 and "give --data FILE, --jobs N, or both" in done.stderr
    done = run("emulator", "--jobs", "1", "--fault-rate", "2")
    assert done.returncode == 1 and "--fault-rate" in done.stderr


def test_data_json_file(tmp_path):
    path = tmp_path / "data.json"
    path.write_text(json.dumps({"jobs": [{"JobType": "ai", "AIJobDetail": {"JobId": "j"}}]}))
    assert list(load_data_file(path)) == [("ai", "j")]
