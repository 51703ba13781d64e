"""Issue #26, item 1: the state of the jobs and the decision of the gate are two facts, and every
output says both; a night of open findings that the gate lets through never reads PASS."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.conftest import sample_jobs
from tests.run.helpers import emulated_args, write_data

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


def test_ongoing_findings_under_the_new_gate_say_fail_and_gate_passed_everywhere(tmp_path, vod_audit):
    from audit.emulator.data import job_identity

    bodies = sample_jobs()
    jobs = [{"id": job_identity(b)[1], "type": job_identity(b)[0]} for b in bodies]
    jobs[0]["expect"] = {"TemplateId": "another template"}  # one open finding, night after night
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": jobs}))
    data = write_data(tmp_path / "data.json", bodies)
    out, state = tmp_path / "out", tmp_path / "s.db"
    assert vod_audit(*emulated_args(manifest, data, out, state)).returncode == 2  # night one: new
    done = vod_audit(*emulated_args(manifest, data, out, state, "--fail-on", "new", "--no-progress"))
    assert done.returncode == 0  # the gate lets an ongoing finding through...
    said = "FAIL: 1 job with findings (0 new); gate --fail-on new: passed, exit 0"  # ...yet FAIL
    assert f"verdict: {said}" in done.stdout
    document = json.loads((out / "results.json").read_text())
    assert document["verdict"] == "FAIL" and document["statement"] == said
    assert document["gate"] == {"fail_on": "new", "passed": True, "exit_code": 0, "allow_empty": False}
    summary = (out / "summary.md").read_text()
    assert summary.startswith("## vod-audit: FAIL\n")
    assert "gate --fail-on new: passed, exit 0" in summary
    page = (out / "report.html").read_text()
    badge = re.search(r'id="verdict">(\w+)<', page)
    assert badge and badge[1] == "FAIL" and "gate --fail-on new: passed, exit 0" in page
    # Issue 26, item 10: the metadata names the state actually used, never `state=None`.
    assert f'id="state-path">{state}<' in page and "state=None" not in page
    assert document["options"]["state"] == str(state)
    evidence = json.loads((out / "evidence.json").read_text())
    assert evidence["verdict"] == "FAIL" and evidence["gate"]["passed"] is True
    sarif = json.loads((out / "results.sarif").read_text())
    assert sarif["runs"][0]["properties"]["gate"] == "gate --fail-on new: passed, exit 0"


def test_waived_jobs_are_said_apart_from_passing_ones(tmp_path, vod_audit):
    from audit.emulator.data import job_identity

    bodies = sample_jobs()
    jobs = [{"id": job_identity(b)[1], "type": job_identity(b)[0]} for b in bodies]
    jobs[0]["expect"] = {"TemplateId": "another template"}
    waivers = [{"job": jobs[0]["id"], "reason": "accepted", "expires": "2099-12-31"}]
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": jobs, "waivers": waivers}))
    data = write_data(tmp_path / "data.json", bodies)
    done = vod_audit(*emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db", "--no-progress"))
    assert done.returncode == 0
    assert (
        f"verdict: PASS: {len(jobs) - 1} jobs ok or pending, 1 job waived (accepted, not passing); gate --fail-on any: passed, exit 0"
        in done.stdout
    )


# Issue #26, item 8: the console names the jobs that need action, new first, at most ten.
def test_the_console_names_the_jobs_to_act_on_new_first(tmp_path, vod_audit):
    from audit.emulator.generate import generate
    from tests.run.helpers import write_manifest

    bodies = generate(60, seed=8)
    data = write_data(tmp_path / "data.json", bodies)
    out, state = tmp_path / "out", tmp_path / "s.db"

    def night(expect: dict) -> tuple[list[str], dict]:
        manifest = write_manifest(tmp_path / "m.yaml", bodies, expect)
        done = vod_audit(*emulated_args(manifest, data, out, state, "--no-progress"))
        lines = done.stdout.splitlines()
        start = next(i for i, line in enumerate(lines) if line.startswith("  needs action ("))
        return lines[start:], json.loads((out / "results.json").read_text())

    night({"transcode": {"TemplateId": "another template"}})
    lines, document = night({"transcode": {"TemplateId": "another template"}, "snapshot": {"Status": "Fail"}})
    failing = [r for r in document["results"] if r["outcome"] in ("drift", "invalid", "not_found", "error")]
    assert len(failing) > 10 and lines[0] == f"  needs action ({len(failing)}):"
    named = [line for line in lines[1:] if line.startswith("    ") and not line.startswith("    and ")]
    assert len(named) == 10 and lines[11] == f"    and {len(failing) - 10} more"
    changes = [line.split()[0] for line in named]
    assert changes == sorted(changes, key=lambda c: c != "new") and changes[0] == "new"  # new first
    ids = {r["job_id"] for r in failing}
    assert all(line.split()[3] in ids for line in named)
    assert lines[12].startswith(f"  report: {out / 'report.html'}")


# Issues #26 (item 2) and #37 (item 7): nothing reached is exit 1 in one sentence, whatever the number
# of jobs, at once.
@pytest.mark.parametrize("count", [1, 28])
def test_an_unreachable_endpoint_is_one_sentence_whatever_the_number_of_jobs(
    tmp_path, vod_audit, monkeypatch, count
):
    from tests.run.helpers import refused_endpoint

    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_ID", "emulator-ak")
    monkeypatch.setenv("ALIBABA_CLOUD_ACCESS_KEY_SECRET", "emulator-secret")
    manifest = tmp_path / "m.yaml"
    jobs = "".join(f"  - {{id: '{n:032x}', type: transcode}}\n" for n in range(count))
    manifest.write_text(f"version: 1\njobs:\n{jobs}")
    out = tmp_path / "out"
    with refused_endpoint() as where:
        done = vod_audit(
            "run",
            str(manifest),
            "--endpoint",
            f"http://{where}",
            "--out",
            str(out),
            "--state",
            str(tmp_path / "s.db"),
        )
    assert done.returncode == 1, done.stdout
    assert done.stderr.startswith(
        f"vod-audit: cannot connect to {where}: connection refused; nothing was audited"
    )
    assert done.stderr.count("\n") == 1 and "no call reached the endpoint (" in done.stderr
    assert not out.exists()  # no report set, and no empty folder left behind (item 8)
