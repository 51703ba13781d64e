"""`vod-audit plan`: what a run would do and cost, said before the run, with no GetJobDetail call."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import yaml

from tests.discover.test_discovery_e2e import jobs
from tests.run.helpers import EMULATOR_ENV, clean_env, cli

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


def test_plan_says_the_state_the_changes_the_waivers_and_the_budget(tmp_path):
    bodies = jobs(4)
    ids = [b["TranscodeJobDetail"]["JobId"] for b in bodies]
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"jobs": bodies}))
    manifest = tmp_path / "night.yaml"
    state = tmp_path / "state.db"
    soon = (datetime.now(UTC) + timedelta(days=3)).date().isoformat()

    def write(listed: list[str]) -> None:
        document = {
            "version": 1,
            "jobs": [{"id": i, "type": "transcode"} for i in listed],
            "waivers": [{"job": listed[0], "reason": "re-run pending", "owner": "ana", "expires": soon}],
        }
        manifest.write_text(yaml.safe_dump(document, sort_keys=False))

    common = ("--emulator", str(data), "--state", str(state))
    write(ids[:3])
    first = cli("plan", str(manifest), *common, "--budget", "1h")
    assert first.returncode == 0, first.stderr
    assert "  since the last run: no complete run of this audit in the state" in first.stdout
    assert "3 jobs, 0 final in state, 3 to ask" in first.stdout
    assert "\ncalls: 3; time at the limits: 0s, within the budget of 1h\n" in first.stdout
    assert f"  waiver {ids[0]} (" in first.stdout and f"expires {soon} (owner ana)" in first.stdout
    ran = cli("run", str(manifest), *common, "--out", str(tmp_path / "out"), "--no-progress")
    assert ran.returncode == 0, ran.stderr
    write([ids[0], ids[1], ids[3]])
    second = cli("plan", str(manifest), *common, "--budget", "0s")
    assert second.returncode == 0, second.stderr
    assert "3 jobs, 2 final in state, 1 to ask" in second.stdout
    assert "GetJobDetail 1 at 15/s" in second.stdout and "over the budget of 0s" in second.stdout
    assert "  since the last complete run: 1 jobs added, 1 removed" in second.stdout
    assert f"    + transcode {ids[3]}" in second.stdout and f"    - transcode {ids[2]}" in second.stdout


def test_plan_without_credentials_says_so_and_exits_1_after_the_plan(tmp_path):
    manifest = tmp_path / "night.yaml"
    manifest.write_text("version: 1\njobs:\n  - {id: j1, type: transcode}\n")
    done = cli("plan", str(manifest), env=clean_env(HOME=str(tmp_path)))
    assert done.returncode == 1
    assert "  provider default: credentials cannot be resolved: no credentials found" in done.stdout
    assert "  jobs: 1 (jobs 1)" in done.stdout
    assert (
        done.stderr
        == "vod-audit: a provider's credentials cannot be resolved, so a run could not start: exit 1\n"
    )
    resolved = cli("plan", str(manifest), env=clean_env(HOME=str(tmp_path), **EMULATOR_ENV))
    assert resolved.returncode == 0 and "credential chain: env" in resolved.stdout
    assert "emulator-secret" not in resolved.stdout + resolved.stderr
