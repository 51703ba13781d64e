"""Issue #36: `plan --format json` states exactly the calls the run then makes, night after night."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml

from tests.run.helpers import ROOT, clean_env, cli, results, run_args, write_manifest

pytestmark = pytest.mark.slow
OPERATIONS = ("GetJobDetail", "SearchMedia", "ListJobInfo")


def planned(*args: str, env: dict[str, str] | None = None) -> dict:
    done = cli("plan", *args, "--format", "json", env=env)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def made(out: Path) -> dict[str, int]:
    """The calls a run made by operation, from its results.json."""
    document = results(out)
    others = document.get("output_calls", {})
    calls = {"GetJobDetail": document["calls"] - sum(others.values()), "SearchMedia": 0, "ListJobInfo": 0}
    calls.update({"GetPlayInfo": 0, "GetMezzanineInfo": 0, **others})
    for found in document.get("discovery", []):
        for operation, count in found["calls"].items():
            calls[operation] += count
    return calls


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    """A copy of the demo (manifest, data, CSV, events), its state kept beside it."""
    folder = tmp_path / "demo"
    shutil.copytree(ROOT / "examples", folder, ignore=shutil.ignore_patterns(".vod-audit"))
    return folder


def night(demo: Path, n: int, *flags: str) -> tuple[dict, dict[str, int]]:
    """The plan, then the run it predicts; both with `flags`."""
    common = (str(demo / "demo.yaml"), "--emulator", str(demo / "demo-data.yaml"), *flags)
    plan = planned(*common)
    out = demo / f"night{n}"
    done = cli("run", *common, "--out", str(out), "--no-progress")
    assert done.returncode in (0, 2), done.stderr
    return plan, made(out)


def test_five_nights_of_the_demo_make_what_the_plan_said_and_the_second_night_on_the_same(demo):
    calls = []
    for n in range(1, 6):
        plan, ran = night(demo, n)
        assert plan["calls"] == ran, f"night {n}"
        assert plan["reuse"] + plan["ask"] == plan["jobs"] == 37
        calls.append(ran["GetJobDetail"])
    # Night 1 asks every job; from night 2 on only the jobs not final yet, the third night included
    # (it asked 22 finished jobs again when the account was learnt from one night's answers).
    assert calls[0] == 37 and calls[1] < 37 and calls[1:] == [calls[1]] * 4


def test_an_edited_expectation_strict_and_refresh_are_planned_as_they_run(demo):
    night(demo, 1)
    manifest = demo / "demo.yaml"
    document = yaml.safe_load(manifest.read_text())
    edited = next(job for job in document["jobs"] if job.get("expect"))
    edited["expect"] = {**edited["expect"], "max_duration": "3650d"}
    manifest.write_text(yaml.safe_dump(document, sort_keys=False))
    plan, ran = night(demo, 2)  # judged afresh, not asked again
    assert plan["calls"] == ran and ran["GetJobDetail"] < 37
    plan, ran = night(demo, 3, "--strict")
    assert plan["strict"] and plan["calls"] == ran and ran["GetJobDetail"] < 37
    plan, ran = night(demo, 4, "--refresh")
    assert plan["refresh"] and plan["reuse"] == 0 and plan["calls"] == ran == {**ran, "GetJobDetail": 37}
    target = edited["id"]
    plan, ran = night(demo, 5, "--refresh", "--target", target)
    assert plan["jobs"] == 1 and plan["calls"] == ran and ran["GetJobDetail"] == 1


def test_a_change_of_account_is_planned_as_the_run_asks_again(start_emulator, tmp_path):
    from tests.conftest import sample_jobs

    bodies = sample_jobs()
    for body in bodies:  # every answer carries the account of the first role
        detail = next(v for k, v in body.items() if k.endswith("Detail"))
        if "UserId" in detail:
            detail["UserId"] = 1111111111111111
    emulator = start_emulator(jobs=bodies, qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    home = tmp_path / "home"
    (home / ".aliyun").mkdir(parents=True)

    def as_account(account: str) -> dict[str, str]:
        role = {"name": "r", "mode": "RamRoleArn", "access_key_id": "emulator-ak"}
        role |= {"access_key_secret": "emulator-secret", "ram_role_arn": f"acs:ram::{account}:role/auditor"}
        config = home / ".aliyun" / "config.json"
        config.write_text(json.dumps({"current": "r", "profiles": [role]}))
        config.chmod(0o600)
        return clean_env(HOME=str(home), ALIBABA_CLOUD_ECS_METADATA_DISABLED="true")

    out = tmp_path / "out"
    args = (str(manifest), "--endpoint", emulator.url, "--sts-endpoint", emulator.url)
    state = ("--state", str(tmp_path / "s.db"))
    seen = []
    for account in ("1111111111111111", "1111111111111111", "2222222222222222"):
        env = as_account(account)
        plan = planned(*args, *state, env=env)
        done = cli(*run_args(manifest, out, emulator.url, "--sts-endpoint", emulator.url, *state), env=env)
        assert done.returncode == 0, done.stderr
        assert plan["calls"] == made(out)
        seen.append((plan["providers"][0]["account"], made(out)["GetJobDetail"]))
    # The same account reuses every final answer; another account's run asks for them again.
    assert seen == [
        ("account 1111111111111111", len(bodies)),
        ("account 1111111111111111", 0),
        ("account 2222222222222222", len(bodies)),
    ]


def test_plan_takes_every_option_that_changes_what_a_run_asks(demo):
    common = (str(demo / "demo.yaml"), "--emulator", str(demo / "demo-data.yaml"))
    plan = planned(*common, "--fail-on", "new", "--unmanaged", "fail", "--strict")
    assert plan["fail_on"] == "new" and plan["strict"] is True
    text = cli("plan", *common, "--target", "nonexistent")
    assert text.returncode == 1 and "--target nonexistent: no such job in the manifest" in text.stderr
