"""Issue #26, item 7: manifests sharing a folder (and so a state) keep their own changes, trend and
history; `history MANIFEST` finds the state a run of it used; a layout-3 state keeps its history."""

from __future__ import annotations

import json
import sqlite3

import pytest
import yaml

from audit.state.sqlite import APPLICATION_ID, State
from tests.conftest import sample_jobs
from tests.run.helpers import write_data

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


def _manifests(folder):
    from audit.emulator.data import job_identity

    jobs = [{"id": job_identity(b)[1], "type": job_identity(b)[0]} for b in sample_jobs()]
    wrong = [{**job, "expect": {"TemplateId": "another template"}} for job in jobs[:1]]
    (folder / "nightly.yaml").write_text(yaml.safe_dump({"version": 1, "jobs": wrong + jobs[1:]}))
    (folder / "spot.yaml").write_text(yaml.safe_dump({"version": 1, "jobs": jobs}))  # the same jobs, right
    return folder / "nightly.yaml", folder / "spot.yaml"


def test_two_manifests_of_one_folder_never_compare_with_each_other(tmp_path, vod_audit):
    nightly, spot = _manifests(tmp_path)
    data = write_data(tmp_path / "data.json", sample_jobs())
    for manifest, out in ((nightly, "a"), (nightly, "b"), (spot, "c")):
        vod_audit(
            "run", str(manifest), "--emulator", str(data), "--out", str(tmp_path / out), "--no-progress"
        )
    second = json.loads((tmp_path / "b" / "results.json").read_text())
    assert second["changes"] == {"new": 0, "ongoing": 1, "resolved": 0}
    spot_first = json.loads((tmp_path / "c" / "results.json").read_text())
    # Its first night: nothing resolved (the other manifest's finding is not its own), a trend of one.
    assert spot_first["changes"] == {"new": 0, "ongoing": 0, "resolved": 0}
    assert second["audit"] == "nightly"
    assert len(spot_first["trend"]) == 1 and spot_first["audit"] == "spot"
    assert (tmp_path / ".vod-audit" / "state.db").is_file()  # one state, shared answers

    # history MANIFEST finds the state a run of it used, from any working directory, its runs only.
    done = vod_audit("history", str(nightly), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert [run["audit"] for run in json.loads(done.stdout)["runs"]] == ["nightly", "nightly"]
    every = vod_audit("history", "--state", str(tmp_path / ".vod-audit" / "state.db"))
    assert every.returncode == 0 and "nightly" in every.stdout and "spot" in every.stdout
    named = vod_audit("history", "--state", str(tmp_path / ".vod-audit" / "state.db"), "--audit", "spot")
    assert "nightly" not in named.stdout and named.stdout.count("complete") == 1


def test_a_manifest_name_names_the_audit(tmp_path, vod_audit):
    nightly, _ = _manifests(tmp_path)
    document = yaml.safe_load(nightly.read_text())
    (tmp_path / "renamed.yaml").write_text(yaml.safe_dump({"name": "nightly", **document}))
    data = write_data(tmp_path / "data.json", sample_jobs())
    for manifest, out in ((nightly, "a"), (tmp_path / "renamed.yaml", "b")):
        vod_audit(
            "run", str(manifest), "--emulator", str(data), "--out", str(tmp_path / out), "--no-progress"
        )
    renamed = json.loads((tmp_path / "b" / "results.json").read_text())
    assert (
        renamed["audit"] == "nightly" and renamed["changes"]["ongoing"] == 1
    )  # the same audit, renamed file


def test_history_without_a_state_says_where_to_look(tmp_path, vod_audit, monkeypatch):
    monkeypatch.chdir(tmp_path)
    done = vod_audit("history")
    assert done.returncode == 1 and "give the manifest (`vod-audit history MANIFEST`)" in done.stderr


def test_a_layout_3_state_keeps_its_history_for_the_first_audit_run_on_it(tmp_path):
    path = tmp_path / "s.db"
    db = sqlite3.connect(path)
    db.executescript(
        f"""
        CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
            manifest_digest TEXT NOT NULL, endpoint TEXT NOT NULL, status TEXT NOT NULL, counts TEXT,
            calls INTEGER, retries INTEGER, throttles INTEGER, changes TEXT, sums TEXT);
        CREATE TABLE job_findings (endpoint TEXT NOT NULL, job_type TEXT NOT NULL, job_id TEXT NOT NULL,
            findings TEXT NOT NULL, PRIMARY KEY (endpoint, job_type, job_id));
        INSERT INTO runs VALUES ('r1', '2026-11-01T00:00:00Z', '2026-11-01T00:01:00Z', 'd', 'svc',
            'complete', '{{"drift": 1}}', 1, 0, 0, '{{"new": 1}}', 'abc');
        INSERT INTO job_findings VALUES ('svc', 'transcode', 't1', '{{"mismatch:Status": "2026-11-01T00:00:00Z"}}');
        PRAGMA user_version=3; PRAGMA application_id={APPLICATION_ID};
        """
    )
    db.close()
    from audit.common.jobtypes import JobRef

    state = State(path)
    state.begin_run("r2", "2026-11-02T00:00:00Z", "d", "svc", "nightly")
    assert state.previous_findings({JobRef("transcode", "t1"): "svc"}) == {
        JobRef("transcode", "t1"): {"mismatch:Status": "2026-11-01T00:00:00Z"}
    }
    assert [run["run_id"] for run in state.history("nightly")] == ["r1", "r2"]
    assert state.last_sums() == "abc"
    state.close()
    other = State(path)
    other.begin_run("r3", "2026-11-03T00:00:00Z", "d", "svc", "spot")
    assert other.previous_findings({JobRef("transcode", "t1"): "svc"}) == {}
    assert [run["run_id"] for run in other.history("spot")] == ["r3"]
    other.close()
