"""`vod-audit schema validate|show` through the real entry point, and the guard every command shares."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.bodies import body, reference_sample


def test_validate_reports_each_violation_and_exit_2(vod_audit, tmp_path):
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(reference_sample()))
    good = tmp_path / "good.json"
    good.write_text(json.dumps(body("snapshot")))
    done = vod_audit("schema", "validate", str(good), str(sample))
    assert done.returncode == 2
    assert done.stdout.splitlines() == [
        f"{good}: ok",
        f"{sample}: /AIJobDetail/CompleteTime: '2024-10-14T07:39:46Z\\n' is not a UTC time of the form "
        "YYYY-MM-DDTHH:mm:ssZ",
    ]


def test_validate_all_valid_exits_0(vod_audit, tmp_path):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(body("ai")))
    done = vod_audit("schema", "validate", str(good))
    assert (done.returncode, done.stdout) == (0, f"{good}: ok\n")


def test_unknown_field_is_a_note_then_strict_makes_it_invalid(vod_audit, tmp_path):
    path = tmp_path / "new-field.json"
    path.write_text(json.dumps(body("transcode", Bitrate=1)))
    relaxed = vod_audit("schema", "validate", str(path))
    assert relaxed.returncode == 0
    assert f"{path}: /TranscodeJobDetail/Bitrate: note: unknown field" in relaxed.stdout
    strict = vod_audit("schema", "validate", "--strict", str(path))
    assert strict.returncode == 2
    assert f"{path}: /TranscodeJobDetail/Bitrate: unknown field" in strict.stdout


def test_unreadable_and_non_json_files_exit_1_without_traceback(vod_audit, tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("hello")
    binary = tmp_path / "blob.json"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    nan = tmp_path / "nan.json"
    nan.write_text('{"RequestId": NaN}')
    done = vod_audit(
        "schema", "validate", str(text), str(binary), str(nan), str(tmp_path / "missing.json"), str(tmp_path)
    )
    assert done.returncode == 1
    lines = done.stdout.splitlines()
    assert lines[0] == f"{text}:1:1: not valid JSON: Expecting value"
    assert lines[1].startswith(f"{binary}: not UTF-8 text")
    assert lines[2] == f"{nan}: not valid JSON: NaN is not valid JSON"
    assert lines[3] == f"{tmp_path / 'missing.json'}: cannot read: No such file or directory"
    assert lines[4] == f"{tmp_path}: is a directory, not a file"
    assert "Traceback" not in done.stdout + done.stderr


def test_show_prints_each_schema_as_json(vod_audit):
    for name, title in [
        ("envelope", "GetJobDetail response"),
        ("transcode", "TranscodeJobDetail"),
        ("snapshot", "SnapshotJobDetail"),
        ("ai", "AIJobDetail"),
        ("workflow", "WorkflowTaskDetail"),
        ("error", "Error response"),
    ]:
        done = vod_audit("schema", "show", name)
        assert done.returncode == 0
        assert json.loads(done.stdout)["title"] == title


def test_show_rejects_an_unknown_name(vod_audit):
    done = vod_audit("schema", "show", "bogus")
    assert done.returncode == 1  # a usage error is exit 1, not click's 2, which means "invalid" here
    assert done.stderr.startswith("vod-audit: Invalid value") and len(done.stderr.splitlines()) == 1


def test_help_does_not_import_heavy_libraries():
    probe = (
        "import sys, runpy; sys.argv=['vod-audit','--help']\n"
        "try:\n    runpy.run_module('audit', run_name='__main__')\nexcept SystemExit:\n    pass\n"
        "heavy = sorted(m for m in ('pandas', 'jinja2', 'jsonschema', 'requests', 'yaml') if m in sys.modules)\n"
        "print('HEAVY', heavy)\n"
    )
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.stdout.strip().splitlines()[-1] == "HEAVY []"


@pytest.mark.parametrize(
    ("args", "broken"),
    [
        (("validate", "m.yaml"), "audit.manifest.load.Reader.manifest"),
        (("schema", "validate", "b.json"), "audit.commands.schema_validate.read_json"),
        (("schema", "show", "ai"), "audit.commands.schema_show.schema_document"),
    ],
)
def test_every_command_turns_an_internal_error_into_one_line_and_exit_1(vod_audit, monkeypatch, args, broken):
    def fail(*args, **kwargs):
        raise RuntimeError("planted bug")

    monkeypatch.setattr(broken, fail)
    done = vod_audit(*args)
    assert done.returncode == 1
    assert (
        done.stderr
        == "vod-audit: internal error: RuntimeError: planted bug (run again with -v for details)\n"
    )
