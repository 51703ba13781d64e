"""Issue 26, item 10: `validate` says what a run would later find out about waivers and CSV rows."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MANIFEST = """version: 1
jobs:
  - {{id: j1, type: transcode, expect: {{Status: TranscodeSuccess}}}}
waivers:
{waivers}
"""


def _validate(tmp_path, vod_audit, *waivers: str):
    path = tmp_path / "m.yaml"
    path.write_text(MANIFEST.format(waivers="\n".join(f"  - {w}" for w in waivers)))
    return vod_audit("validate", str(path))


def test_an_expired_waiver_is_said_at_its_position(tmp_path, vod_audit):
    done = _validate(tmp_path, vod_audit, "{job: j1, reason: old, expires: '2020-01-01'}")
    assert done.returncode == 0
    assert (
        f"{tmp_path / 'm.yaml'}:5:5: warning: the waiver expired on 2020-01-01; it waives nothing"
        in done.stdout
    )
    assert done.stdout.rstrip().endswith("ok: 1 job in 1 file")  # issue #37: one job, not "1 jobs"


def test_a_waiver_lapsing_soon_is_said(tmp_path, vod_audit):
    soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()
    done = _validate(tmp_path, vod_audit, f"{{job: j1, reason: soon, expires: '{soon}'}}")
    assert done.returncode == 0 and f"expires on {soon}, within 14 days" in done.stdout


def test_a_misspelt_waiver_field_gets_a_did_you_mean(tmp_path, vod_audit):
    done = _validate(tmp_path, vod_audit, "{job: j1, field: Stauts, reason: typo, expires: '2099-01-01'}")
    assert done.returncode == 1
    assert (
        "the waiver's field 'Stauts' is no field of transcode jobs, so it would waive nothing; did you mean 'Status'?"
        in (done.stdout)
    )
    fine = ["Status", "max_duration", "/TranscodeJobDetail/Status", "error", "not_found"]
    for field in fine:
        assert (
            _validate(
                tmp_path, vod_audit, f"{{job: j1, field: '{field}', reason: ok, expires: '2099-01-01'}}"
            ).returncode
            == 0
        )


def test_every_problem_of_one_waiver_is_said(tmp_path, vod_audit):
    done = _validate(tmp_path, vod_audit, "{job: j2, field: Nope, expires: '2026-02-30'}")
    assert done.returncode == 1
    said = done.stdout
    assert "missing required key 'reason'" in said
    assert "the waiver names job j2, which the manifest does not list" in said
    assert "'2026-02-30' is not a real date" in said
    assert "3 problems found" in said


def test_an_empty_csv_id_is_said_in_words(tmp_path, vod_audit):
    (tmp_path / "jobs.csv").write_text("id,type\nj1,transcode\n,transcode\n")
    (tmp_path / "m.yaml").write_text("version: 1\njobs_from:\n  - csv: jobs.csv\n")
    done = vod_audit("validate", str(tmp_path / "m.yaml"))
    assert done.returncode == 1
    assert f"{tmp_path / 'jobs.csv'}:3:1: id is empty: every job needs its JobId" in done.stdout
    assert "should be non-empty" not in done.stdout
