"""Severities: stated rules are violations, our own rules and unlisted values warnings, --strict both.

A table of saved bodies (tests/fixtures/responses/severity/) with the exit code of `schema validate`
in default and strict mode, and the outcome a real run over the emulator gives each of them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from audit.common.schemafiles import all_schemas
from audit.emulator.data import job_identity
from audit.schema.validate import validate_response
from tests.bodies import FIXTURES, reference_sample
from tests.run.helpers import cli, results

CASES = FIXTURES / "responses" / "severity"
# file: (schema validate exit, with --strict, outcome of a run expecting TranscodeSuccess / Success)
TABLE = {
    "clean": (0, 0, "ok"),
    "failed-without-completion-time": (0, 2, "drift"),
    "undocumented-status-value": (0, 2, "pending"),
    "empty-other-detail-objects": (0, 0, "ok"),
    "malformed-time": (2, 2, "invalid"),
    "user-id-as-string": (2, 2, "invalid"),
    "status-as-number": (2, 2, "invalid"),
    "json-in-string-that-does-not-parse": (2, 2, "invalid"),
}


def test_the_table_covers_every_saved_body():
    assert {path.stem for path in CASES.glob("*.json")} == set(TABLE)


@pytest.mark.parametrize("name", sorted(TABLE))
def test_schema_validate_exit_in_default_and_strict_mode(vod_audit, name):
    default, strict, _ = TABLE[name]
    path = str(CASES / f"{name}.json")
    assert vod_audit("schema", "validate", path).returncode == default
    assert vod_audit("schema", "validate", "--strict", path).returncode == strict


def test_a_run_judges_each_body_on_its_expectations(tmp_path):
    bodies = [json.loads((CASES / f"{name}.json").read_text()) for name in sorted(TABLE)]
    for document in bodies:
        document.pop("RequestId")
    expected_status = {"transcode": "TranscodeSuccess", "snapshot": "Success"}
    jobs = [
        {
            "id": job_identity(b)[1],
            "type": job_identity(b)[0],
            "expect": {"Status": expected_status[b["JobType"]]},
        }
        for b in bodies
    ]
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"version": 1, "jobs": jobs}))
    # Saved in 2024: anchored to now, so that the emulator's six-month window still sees them.
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"time_anchor": "2024-10-14T08:00:00Z", "jobs": bodies}))
    done = cli("run", str(tmp_path / "m.yaml"), "--emulator", str(data), "--out", str(tmp_path / "out"))
    assert done.returncode == 2, done.stderr
    by_id = {r["job_id"]: r for r in results(tmp_path / "out")["results"]}
    for name, document in zip(sorted(TABLE), bodies, strict=True):
        assert by_id[job_identity(document)[1]]["outcome"] == TABLE[name][2], name

    failed = by_id[job_identity(bodies[sorted(TABLE).index("failed-without-completion-time")])[1]]
    kinds = {(f["kind"], f["severity"]) for f in failed["findings"]}
    # The real finding survives the missing completion time, which stands beside it as a warning.
    assert kinds == {("mismatch", "error"), ("schema", "warning")}
    # That one, the status value the reference does not list, and the number 3 that is not one either.
    assert "warnings 3" in done.stdout and results(tmp_path / "out")["warnings"] == 3


def test_the_reference_sample_has_one_violation_in_either_mode():
    for strict in (False, True):
        found = validate_response(reference_sample(), strict=strict)
        assert [(v.pointer, v.severity, v.evidence) for v in found] == [
            ("/AIJobDetail/CompleteTime", "violation", "reference")
        ]


def test_strict_makes_warnings_and_notes_violations():
    document = json.loads((CASES / "failed-without-completion-time.json").read_text())
    document["TranscodeJobDetail"]["Bitrate"] = 1
    relaxed = {v.severity for v in validate_response(document)}
    assert relaxed == {"warning", "note"}
    assert {v.severity for v in validate_response(document, strict=True)} == {"violation"}


RULES = {
    "type",
    "pattern",
    "enum",
    "const",
    "required",
    "anyOf",
    "uniqueItems",
    "x-jsonString",
    "x-timeOrder",
}


def _schemas(node, where):
    """Every schema object below `node` (not `if`, which only selects and never fails)."""
    if not isinstance(node, dict):
        return
    yield where, node
    for key in ("properties", "$defs"):
        for name, sub in node.get(key, {}).items():
            yield from _schemas(sub, f"{where}/{key}/{name}")
    for key in ("items", "additionalProperties", "then", "x-jsonString"):
        yield from _schemas(node.get(key), f"{where}/{key}")
    for key in ("anyOf", "allOf"):
        for index, sub in enumerate(node.get(key, [])):
            yield from _schemas(sub, f"{where}/{key}/{index}")


def test_every_rule_of_the_response_schemas_records_its_evidence():
    checked = 0
    for schema_id, document in all_schemas().items():
        if schema_id in ("urn:vod-audit:manifest", "urn:vod-audit:error", "urn:vod-audit:notification"):
            continue
        for where, node in _schemas(document, schema_id):
            if "/allOf/" in where and "/then" not in where:
                continue  # the envelope's branches: only their `then` states a rule
            recorded = node.get("x-evidence", {})
            for keyword in RULES & set(node):
                if "/anyOf/" in where:
                    continue  # an alternative of anyOf: the anyOf itself carries the evidence
                assert recorded.get(keyword) in ("reference", "sdk", "inferred"), f"{where}: {keyword}"
                checked += 1
    assert checked > 60


def test_no_rule_of_ours_is_marked_as_stated_where_no_source_states_it():
    # Required fields, completion times and time order: every official SDK model marks every field
    # optional, and no source states the order, so these can only ever warn.
    for name in ("transcode", "snapshot", "ai", "workflow"):
        detail = all_schemas()[f"urn:vod-audit:{name}"]
        assert detail["x-evidence"]["required"] == "inferred"
        assert detail["x-evidence"]["x-timeOrder"] == "inferred"
        assert detail["then"]["x-evidence"]["required"] == "inferred"
    assert all_schemas()["urn:vod-audit:envelope"]["x-evidence"]["required"] == "inferred"


def test_saved_bodies_are_what_their_names_say():
    body = json.loads((CASES / "empty-other-detail-objects.json").read_text())
    assert body["SnapshotJobDetail"] == {} == body["AIJobDetail"] and body["JobType"] == "transcode"
    assert Path(CASES / "status-as-number.json").read_text().count('"Status": 3') == 1
