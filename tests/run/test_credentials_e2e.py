"""Every credential mode end to end against the emulator: STS, OIDC, the instance role, a credentials
URI; renewal during a run; state that survives rotation and keeps accounts apart."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from audit.common.timeutil import format_utc
from audit.emulator.generate import generate
from tests import loopback
from tests.conftest import sample_jobs
from tests.run.helpers import clean_env, cli, results, run_args, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

OIDC_TOKEN = "eyJ-oidc-Token-Pangolin-7c6b5a"  # must never be written anywhere
ROLE = "acs:ram::1234567890123456:role/vod-auditor"


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=10) as answer:
        return json.load(answer)


def sts_keys(document: dict) -> list[str]:
    return [key for key in document["by_access_key"] if key.startswith("STS.")]


@contextmanager
def relay(url: str, *, expiration: str | None = None, serve: int | None = None) -> Iterator[str]:
    """A credentials URI in front of the emulator's: optionally stating another Expiration than the
    real one, or failing (HTTP 500) after `serve` answers."""
    served = []

    def answer(request: object) -> tuple[int, bytes]:
        if serve is not None and len(served) >= serve:
            return 500, b"{}"
        served.append(1)
        with urllib.request.urlopen(f"{url}/_emulator/credentials", timeout=10) as issued:
            document = json.load(issued)
        return 200, json.dumps({**document, "Expiration": expiration} if expiration else document).encode()

    with loopback.serve(answer) as (base, _):
        yield f"{base}/credentials"


def test_a_new_sts_session_reuses_what_the_last_one_stored(start_emulator, tmp_path):
    bodies = generate(37, seed=11)
    emulator = start_emulator(jobs=bodies, qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    env = clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=f"{emulator.url}/_emulator/credentials")
    first = cli(*run_args(manifest, tmp_path, emulator.url), env=env)
    before = results(tmp_path)
    second = cli(*run_args(manifest, tmp_path, emulator.url), env=env)
    after = results(tmp_path)
    assert first.returncode in (0, 2) and second.returncode in (0, 2), second.stderr
    assert before["credentials"]["access_key_ids"] != after["credentials"]["access_key_ids"]  # rotated
    unfinished = [r for r in before["results"] if r["outcome"] in ("pending", "error", "invalid")]
    assert 0 < len(unfinished) < 37
    assert (before["calls"], after["calls"]) == (37, len(unfinished))
    assert len(sts_keys(stats(emulator.url))) == 2


def test_300_jobs_at_15_per_second_on_8_second_tokens(start_emulator, tmp_path):
    bodies = generate(300, seed=5)
    emulator = start_emulator(jobs=bodies, token_lifetime=8)  # the emulator limits at 15/s
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    env = clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=f"{emulator.url}/_emulator/credentials")
    done = cli(*run_args(manifest, tmp_path, emulator.url), env=env, timeout=120)
    document = results(tmp_path)
    assert done.returncode in (0, 2), done.stderr
    assert len(document["results"]) == 300 and document["counts"]["error"] == 0
    assert document["credentials"]["renewals"] >= 2
    counted = stats(emulator.url)
    assert len(sts_keys(counted)) >= 3  # answered on several AccessKey IDs
    assert sum(counted["by_outcome"].get(o, 0) for o in ("ok", "not_found")) == document["calls"]


def test_a_call_told_its_token_expired_is_repeated_on_renewed_keys(start_emulator, tmp_path):
    bodies = generate(90, seed=2)
    emulator = start_emulator(jobs=bodies, token_lifetime=3)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    # The relay claims the keys last a day, so no renewal comes early: the calls meet the expiry.
    later = format_utc(datetime.now(UTC) + timedelta(days=1))
    with relay(emulator.url, expiration=later) as uri:
        done = cli(
            *run_args(manifest, tmp_path, emulator.url), env=clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=uri)
        )
    document = results(tmp_path)
    assert done.returncode in (0, 2), done.stderr
    assert document["counts"]["error"] == 0 and len(document["results"]) == 90
    refused = stats(emulator.url)["by_access_key"].get("unauthenticated", {})
    assert refused.get("InvalidSecurityToken.Expired", 0) >= 1
    assert document["credentials"]["renewals"] >= 1 and document["retries"] == 0  # not counted as retries


def test_renewal_that_keeps_failing_ends_the_run_interrupted_with_what_was_collected(
    start_emulator, tmp_path
):
    bodies = generate(200, seed=4)
    emulator = start_emulator(jobs=bodies, token_lifetime=2)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    with relay(emulator.url, serve=1) as uri:
        done = cli(
            *run_args(manifest, tmp_path, emulator.url, "--qps", "10"),
            env=clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=uri),
            timeout=120,
        )
    document = results(tmp_path)
    assert done.returncode == 3, done.stdout + done.stderr
    assert "the run stopped early: the credentials expired and could not be renewed" in done.stderr
    assert document["incomplete"] and "could not be renewed" in document["stopped_by"]
    assert 0 < len(document["results"]) < 200 and document["counts"]["error"] == 0  # none silently lost
    assert "could not be renewed" in (tmp_path / "report.html").read_text()


def cli_profiles(home: Path, url: str, token_file: Path) -> None:
    profiles = [
        {
            "name": "base",
            "mode": "AK",
            "access_key_id": "emulator-ak",
            "access_key_secret": "emulator-secret",
        },
        {
            "name": "role",
            "mode": "RamRoleArn",
            "access_key_id": "emulator-ak",
            "access_key_secret": "emulator-secret",
            "ram_role_arn": ROLE,
            "ram_session_name": "nightly",
        },
        {"name": "chained", "mode": "ChainableRamRoleArn", "source_profile": "role", "ram_role_arn": ROLE},
        {
            "name": "oidc",
            "mode": "OIDC",
            "ram_role_arn": ROLE,
            "oidc_provider_arn": "acs:ram::1234567890123456:oidc-provider/GitHub",
            "oidc_token_file": str(token_file),
        },
        {"name": "ecs", "mode": "EcsRamRole", "ram_role_name": "vod-audit-emulator-role"},
        {"name": "ecs-unnamed", "mode": "EcsRamRole"},
        {"name": "uri", "mode": "CredentialsURI", "credentials_uri": f"{url}/_emulator/credentials"},
    ]
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"current": "base", "profiles": profiles}))
    path.chmod(0o600)


def ini(home: Path, body: str) -> None:
    path = home / ".alibabacloud" / "credentials.ini"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(body)
    path.chmod(0o600)


MODES = {
    # name: (extra environment, flags, what the emulator's identity side counted, the source named)
    "RamRoleArn profile": ({}, ("--profile", "role"), "AssumeRole", "role acs:ram::"),
    "ChainableRamRoleArn profile": ({}, ("--profile", "chained"), "AssumeRole", "assumed with role"),
    "OIDC profile": ({}, ("--profile", "oidc"), "AssumeRoleWithOIDC", "OIDC token"),
    "OIDC environment": (
        {
            "ALIBABA_CLOUD_ROLE_ARN": ROLE,
            "ALIBABA_CLOUD_OIDC_PROVIDER_ARN": "acs:ram::1234567890123456:oidc-provider/GitHub",
            "ALIBABA_CLOUD_OIDC_TOKEN_FILE": "{token}",
            "ALIBABA_CLOUD_ROLE_SESSION_NAME": "github-actions",
        },
        (),
        "AssumeRoleWithOIDC",
        "OIDC token",
    ),
    "EcsRamRole profile": ({}, ("--profile", "ecs"), "metadata_credentials", "ECS instance role"),
    "EcsRamRole profile, role name asked": ({}, ("--profile", "ecs-unnamed"), "metadata_credentials", "ECS"),
    "ECS role named by ALIBABA_CLOUD_ECS_METADATA": (
        {
            "ALIBABA_CLOUD_ECS_METADATA": "vod-audit-emulator-role",
            "ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true",
        },
        (),
        "metadata_credentials",
        "ECS instance role",
    ),
    "CredentialsURI profile": ({}, ("--profile", "uri"), "credentials_uri", "credentials URI"),
    "credentials.ini ram_role_arn": (
        {"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true", "INI": "ram_role_arn"},
        (),
        "AssumeRole",
        "credentials.ini",
    ),
    "credentials.ini oidc_role_arn": (
        {"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true", "INI": "oidc_role_arn"},
        (),
        "AssumeRoleWithOIDC",
        "OIDC token",
    ),
    "credentials.ini ecs_ram_role": (
        {"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true", "INI": "ecs_ram_role"},
        (),
        "metadata_credentials",
        "ECS instance role",
    ),
}
INI = {
    "ram_role_arn": "type = ram_role_arn\naccess_key_id = emulator-ak\naccess_key_secret = emulator-secret\n"
    f"role_arn = {ROLE}\n",
    "oidc_role_arn": f"type = oidc_role_arn\nrole_arn = {ROLE}\n"
    "oidc_provider_arn = acs:ram::1234567890123456:oidc-provider/GitHub\noidc_token_file_path = {token}\n",
    "ecs_ram_role": "type = ecs_ram_role\nrole_name = vod-audit-emulator-role\n",
}


@pytest.mark.parametrize("mode", list(MODES))
def test_each_mode_against_the_emulator_with_no_secret_written(start_emulator, tmp_path, mode):
    extra, flags, counted, named = MODES[mode]
    emulator = start_emulator(qps=0)
    token_file = tmp_path / "oidc-token"
    token_file.write_text(OIDC_TOKEN + "\n")
    home = tmp_path / "home"
    cli_profiles(home, emulator.url, token_file)
    extra = {k: v.format(token=token_file) for k, v in extra.items()}
    if "INI" in extra:
        ini(home, "[default]\n" + INI[extra.pop("INI")].format(token=token_file))
    env = clean_env(
        HOME=str(home),
        VOD_AUDIT_ECS_METADATA_ENDPOINT=emulator.url,  # the emulator stands in for 100.100.100.200
        **extra,
    )
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    out = tmp_path / "out"
    done = cli(*run_args(manifest, out, emulator.url, "--sts-endpoint", emulator.url, "-vv"), *flags, env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    document = results(out)
    assert named in document["credentials"]["source"]
    assert stats(emulator.url)["identity"].get(counted, 0) >= 1
    assert document["credentials"]["access_key_ids"][0].startswith("STS.")
    issued = [(k.secret, k.token) for k in emulator.api.identity._keys.values() if k.token]
    assert issued
    written = b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())
    for value in [OIDC_TOKEN, "emulator-secret", *(v for pair in issued for v in pair)]:
        assert value not in done.stdout + done.stderr, value
        assert value.encode() not in written, value


def test_a_job_stored_under_one_account_is_not_served_to_a_run_of_another(start_emulator, tmp_path):
    # Answers without a UserId (it is optional in every SDK model): they belong to the account the
    # credentials state. One that carries a UserId belongs to that (tests/reliability/test_broken_promises.py).
    bodies = sample_jobs()
    for body in bodies:
        next(v for k, v in body.items() if k.endswith("Detail")).pop("UserId", None)
    emulator = start_emulator(jobs=bodies, qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    home = tmp_path / "home"
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True)

    def audit_as(account: str) -> dict:
        role = {"name": "r", "mode": "RamRoleArn", "access_key_id": "emulator-ak"}
        role.update(access_key_secret="emulator-secret", ram_role_arn=f"acs:ram::{account}:role/auditor")
        path.write_text(json.dumps({"current": "r", "profiles": [role]}))
        path.chmod(0o600)
        done = cli(
            *run_args(manifest, tmp_path, emulator.url, "--sts-endpoint", emulator.url),
            env=clean_env(HOME=str(home)),
        )
        assert done.returncode == 0, done.stderr
        return results(tmp_path)

    jobs = len(sample_jobs())
    assert audit_as("1111111111111111")["calls"] == jobs
    assert audit_as("1111111111111111")["calls"] == 0  # another session of the same account: reused
    assert audit_as("2222222222222222")["calls"] == jobs  # another account: asked again
    assert audit_as("1111111111111111")["calls"] == jobs  # its answers were replaced by the other's


def test_a_handed_over_sts_token_that_expires_ends_the_run_interrupted(start_emulator, tmp_path):
    bodies = generate(100, seed=8)
    emulator = start_emulator(jobs=bodies, token_lifetime=2)
    with urllib.request.urlopen(f"{emulator.url}/_emulator/credentials", timeout=10) as answer:
        issued = json.load(answer)
    env = clean_env(
        ALIBABA_CLOUD_ACCESS_KEY_ID=issued["AccessKeyId"],
        ALIBABA_CLOUD_ACCESS_KEY_SECRET=issued["AccessKeySecret"],
        ALIBABA_CLOUD_SECURITY_TOKEN=issued["SecurityToken"],
    )
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    done = cli(*run_args(manifest, tmp_path, emulator.url, "--qps", "10"), env=env)
    document = results(tmp_path)
    assert done.returncode == 3 and "that source cannot renew it" in done.stderr, done.stderr
    assert 0 < len(document["results"]) < 100 and document["counts"]["error"] == 0
