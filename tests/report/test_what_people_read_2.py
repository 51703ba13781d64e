"""Issue #37: what people read, round 2 (the parts that need no server)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from audit.common.findings import Finding, Outcome
from audit.report.markdown import MarkdownReport
from audit.results.record import JobResult
from tests.report.fixtures import fixed_run

ROOT = Path(__file__).resolve().parents[2]


def test_report_help_lists_the_options_of_rendering_one_run(vod_audit):
    done = vod_audit("report", "--help")
    assert done.returncode == 0
    for option in ("--out", "--format", "--sign", "--sign-key"):
        assert option in done.stdout
    assert "render" in done.stdout  # the name the error of a missing --out points at is listed


def test_summary_explains_the_warnings_it_has_not_others(tmp_path):
    unmanaged = Finding("unmanaged", "JobId", None, "j9", "no list names this job", "warning")
    result = JobResult("transcode", "j9", Outcome.OK, (unmanaged,))
    run = replace(fixed_run(), results=(result,), planned=1)
    text = MarkdownReport().write(run, tmp_path)[0].read_text()
    assert "1 warning in 1 job (jobs discovery found that no list of the manifest names;" in text
    assert "rules no source states" not in text


def test_validate_warns_of_an_id_not_shaped_as_the_references_job_ids(tmp_path, vod_audit):
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\njobs:\n"
        "  - {id: 2DC1634E0000000000000000003F1D22, type: transcode}\n"
        "  - {id: 2dc1634e0000000000000000003f1d22, type: transcode}\n"
    )
    done = vod_audit("validate", str(manifest))
    assert done.returncode == 0
    lines = [line for line in done.stdout.splitlines() if "warning:" in line]
    assert len(lines) == 1 and lines[0].startswith(f"{manifest}:3:5: warning: '2DC1634E")
    assert "32 lower-case letters and digits" in lines[0]
    assert done.stdout.rstrip().endswith("ok: 2 jobs in 1 file")


def test_the_nightly_example_installs_what_it_checks_out():
    page = (ROOT / "docs" / "nightly-ci.md").read_text()
    workflow = page.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert "pip install ./vod-audit" in workflow and "path: vod-audit" in workflow


def test_the_readme_lists_every_file_of_a_set():
    from audit.report import REPORT_FILES

    readme = (ROOT / "README.md").read_text()
    section = readme.split("## What you get", 1)[1].split("##", 1)[0]
    assert all(f"`{name}`" in section for name in REPORT_FILES)


def test_a_run_that_fails_on_credentials_leaves_no_empty_report_folder(tmp_path, vod_audit, monkeypatch):
    for name in ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("ALIBABA_CLOUD_ECS_METADATA_DISABLED", "true")
    manifest = tmp_path / "m.yaml"
    manifest.write_text("version: 1\njobs:\n  - {id: 2dc1634e0000000000000000003f1d22, type: transcode}\n")
    out = tmp_path / "reports"
    done = vod_audit("run", str(manifest), "--out", str(out), "--state", str(tmp_path / "s.db"))
    assert done.returncode == 1 and "no credentials found" in done.stderr
    assert not out.exists()
