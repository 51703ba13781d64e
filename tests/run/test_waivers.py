"""Waivers in a real run: live ones waive what they cover, expired ones nothing, all are reported."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from audit.emulator.data import job_identity
from tests.conftest import sample_jobs
from tests.run.helpers import cli, results, write_data

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

IDS = {job_identity(b)[0]: job_identity(b)[1] for b in sample_jobs()}


def day(offset: int) -> str:
    """A date `offset` days from today, read when the waiver is written: offsets are never 0, so that
    a run starting after midnight still finds each waiver live or lapsed as the test means it."""
    assert offset != 0
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def run(tmp_path, waivers: list[dict]) -> tuple[int, dict, str]:
    bodies = sample_jobs()
    jobs = [
        # two findings: a wrong template and a wrong status
        {
            "id": IDS["transcode"],
            "type": "transcode",
            "expect": {"TemplateId": "other", "Status": "TranscodeFail"},
        },
        {"id": IDS["snapshot"], "type": "snapshot", "expect": {"Trigger": "Manual"}},  # one finding
        {"id": IDS["ai"], "type": "ai"},  # none
    ]
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": jobs, "waivers": waivers}, sort_keys=False))
    data = write_data(tmp_path / "data.json", bodies)
    done = cli("run", str(manifest), "--emulator", str(data), "--out", str(tmp_path / "out"), "--no-progress")
    assert "Traceback" not in done.stderr
    return done.returncode, results(tmp_path / "out"), done.stdout


def by_type(document: dict) -> dict:
    return {r["job_type"]: r for r in document["results"]}


def test_without_waivers_the_findings_count(tmp_path):
    code, document, _ = run(tmp_path, [])
    assert code == 2 and by_type(document)["transcode"]["outcome"] == "drift"
    assert document["waived"] == 0 and document["waivers"] == []


def test_a_waiver_on_one_field_leaves_the_jobs_other_findings(tmp_path):
    waiver = {
        "job": IDS["transcode"],
        "field": "TemplateId",
        "reason": "legacy template",
        "owner": "video",
        "expires": day(60),
    }
    code, document, stdout = run(tmp_path, [waiver])
    transcode = by_type(document)["transcode"]
    assert transcode["outcome"] == "drift" and code == 2  # the Status finding still counts
    waived = {f["field"]: f["waived"] for f in transcode["findings"]}
    assert waived["TemplateId"] == {"reason": "legacy template", "owner": "video", "expires": day(60)}
    assert waived["Status"] is None
    assert document["waived"] == 1 and "waived 1" in stdout


def test_waivers_covering_every_finding_make_the_run_pass(tmp_path):
    waivers = [
        {"job": IDS["transcode"], "reason": "re-encode scheduled", "expires": day(3)},
        {
            "job": IDS["snapshot"],
            "type": "snapshot",
            "field": "Trigger",
            "reason": "manual by design",
            "expires": day(1),
        },
    ]
    code, document, stdout = run(tmp_path, waivers)
    assert code == 0 and document["verdict"] == "PASS"
    # Failing only in what waivers cover: accepted, not clean (the ai job had nothing to waive).
    assert {r["job_type"]: r["outcome"] for r in document["results"]} == {
        "transcode": "waived",
        "snapshot": "waived",
        "ai": "ok",
    }
    assert document["waived"] == 3
    assert sum("expires within 14 days" in line for line in stdout.splitlines()) == 2  # both lapse soon
    junit = (tmp_path / "out" / "junit.xml").read_text()
    assert 'skipped message="waived: re-encode scheduled"' in junit


def test_an_expired_waiver_waives_nothing_and_a_stale_one_is_reported(tmp_path):
    waivers = [
        {"job": IDS["transcode"], "reason": "was accepted", "expires": day(-1)},
        {"job": IDS["ai"], "reason": "nothing wrong any more", "expires": day(90)},
    ]
    code, document, stdout = run(tmp_path, waivers)
    assert code == 2 and by_type(document)["transcode"]["outcome"] == "drift"
    states = {w["job"]: w["state"] for w in document["waivers"]}
    assert states == {IDS["transcode"]: "expired", IDS["ai"]: "stale"}
    assert "expired, waives nothing" in stdout and "waives nothing any more" in stdout
    summary = (tmp_path / "out" / "summary.md").read_text()
    assert "expired, waives nothing" in summary and "waives nothing any more" in summary
