"""Issue #37, item 1: an audit of nothing is its own verdict, EMPTY, exit 1 unless it is expected."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET

import pytest

from tests.run.helpers import EMULATOR_ENV, ROOT, clean_env, cli

pytestmark = pytest.mark.slow


def audit(tmp_path, manifest, *extra):
    out = tmp_path / "out"
    done = cli(
        "run",
        str(manifest),
        "--emulator",
        str(ROOT / "examples" / "demo-data.yaml"),
        "--out",
        str(out),
        "--state",
        str(tmp_path / "s.db"),
        "--no-progress",
        *extra,
        env=clean_env(**EMULATOR_ENV),
    )
    return done, out


def test_events_all_before_since_say_empty_in_every_output_and_exit_1(tmp_path):
    shutil.copy(ROOT / "examples" / "demo-events.jsonl", tmp_path)
    manifest = tmp_path / "night.yaml"
    manifest.write_text(
        "version: 1\njobs_from:\n  - {events: demo-events.jsonl, since: '2099-01-01T00:00:00Z'}\n"
    )
    done, out = audit(tmp_path, manifest)
    assert done.returncode == 1, done.stderr
    said = "EMPTY: no job to audit (38 events read, all outside since/until or naming no job)"
    assert f"verdict: {said}; gate: an empty audit is not expected" in done.stdout
    document = json.loads((out / "results.json").read_text())
    assert document["verdict"] == "EMPTY" and document["exit_code"] == 1
    assert document["statement"].startswith(said) and document["gate"]["passed"] is False
    assert json.loads((out / "evidence.json").read_text())["verdict"] == "EMPTY"
    assert said in (out / "summary.md").read_text().replace("\\_", "_")  # Markdown escapes _
    page = (out / "report.html").read_text()
    assert (
        'class="verdict EMPTY"' in page and "No job to audit: 38 events read, all outside since/until" in page
    )
    junit = ET.parse(out / "junit.xml").getroot()
    assert junit.get("tests") == "1" and junit.find(".//testcase/error").get("message").startswith(said)
    sarif = json.loads((out / "results.sarif").read_text())["runs"][0]
    assert sarif["invocations"][0]["executionSuccessful"] is False
    assert sarif["invocations"][0]["toolExecutionNotifications"][0]["message"]["text"].startswith(said)


@pytest.mark.parametrize(
    ("document", "extra"),
    [("version: 1\n", ()), ("version: 1\njobs_from:\n  - csv: jobs.csv\n", ())],
    ids=["version-alone", "csv-header-only"],
)
def test_an_empty_manifest_is_empty_not_pass(tmp_path, document, extra):
    (tmp_path / "jobs.csv").write_text("id,type\n")
    manifest = tmp_path / "m.yaml"
    manifest.write_text(document)
    done, _ = audit(tmp_path, manifest, *extra)
    assert (
        done.returncode == 1 and "verdict: EMPTY: no job to audit (the manifests list no job)" in done.stdout
    )
    assert "PASS" not in done.stdout


def test_an_expected_empty_audit_passes_as_empty(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\n")
    flagged, out = audit(tmp_path, manifest, "--allow-empty")
    assert flagged.returncode == 0, flagged.stderr
    assert (
        "verdict: EMPTY: no job to audit (the manifests list no job); gate: an empty audit is expected"
        in (flagged.stdout)
    )
    junit = ET.parse(out / "junit.xml").getroot()
    assert junit.find(".//testcase/skipped") is not None
    manifest.write_text("version: 1\nallow_empty: true\n")
    declared, out = audit(tmp_path, manifest)
    assert declared.returncode == 0 and json.loads((out / "results.json").read_text())["verdict"] == "EMPTY"
