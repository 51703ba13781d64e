"""The credential chain, with a temporary HOME and environment."""

from __future__ import annotations

import json
import os
import pickle
import re
import subprocess
import sys

import pytest

from audit.credentials import chain
from audit.credentials.records import CredentialError
from audit.vod.keys import Credentials, Secret


def resolve(profile, env, home):
    """The credentials the chain picks first (`chain.resolve` also returns their source)."""
    return chain.resolve(profile, env, home).credentials


CONFIG = {
    "current": "default",
    "profiles": [
        {
            "name": "default",
            "mode": "AK",
            "access_key_id": "AK-default",
            "access_key_secret": "sec-default",
            "region_id": "cn-shanghai",
        },
        {
            "name": "sts",
            "mode": "StsToken",
            "access_key_id": "AK-sts",
            "access_key_secret": "sec-sts",
            "sts_token": "tok-sts",
            "region_id": "cn-shanghai",
        },
        {"name": "role", "mode": "RamRoleArn", "access_key_id": "x", "access_key_secret": "y"},
        {"name": "half", "mode": "StsToken", "access_key_id": "AK-half", "access_key_secret": "s"},
    ],
}


def write_config(home, document=CONFIG, mode=0o600, raw=None):
    folder = home / ".aliyun"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "config.json"
    path.write_text(raw if raw is not None else json.dumps(document))
    os.chmod(path, mode)
    return path


def test_profile_flag_wins_over_environment(tmp_path):
    write_config(tmp_path)
    env = {"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK-env", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sec-env"}
    found = resolve("sts", env, tmp_path)
    assert (found.access_key_id, found.access_key_secret.reveal(), found.security_token.reveal()) == (
        "AK-sts",
        "sec-sts",
        "tok-sts",
    )


def test_environment_before_file(tmp_path):
    write_config(tmp_path)
    env = {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "AK-env",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "sec-env",
        "ALIBABA_CLOUD_SECURITY_TOKEN": "tok-env",
    }
    found = resolve(None, env, tmp_path)
    assert (found.access_key_id, found.security_token.reveal(), found.source) == (
        "AK-env",
        "tok-env",
        "environment",
    )


def test_profile_env_then_current_profile(tmp_path):
    write_config(tmp_path)
    assert resolve(None, {"ALIBABA_CLOUD_PROFILE": "sts"}, tmp_path).access_key_id == "AK-sts"
    assert resolve(None, {}, tmp_path).access_key_id == "AK-default"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        (
            {"ALIBABA_CLOUD_ACCESS_KEY_ID": "AK"},
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET not set while other ALIBABA_CLOUD_* keys are; set both",
        ),
        (
            {"ALIBABA_CLOUD_ACCESS_KEY_SECRET": "s"},
            "ALIBABA_CLOUD_ACCESS_KEY_ID not set while other ALIBABA_CLOUD_* keys are; set both",
        ),
        (
            {"ALIBABA_CLOUD_SECURITY_TOKEN": "t"},
            "ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET not set",
        ),
        ({}, "no credentials found; set ALIBABA_CLOUD_ACCESS_KEY_ID and ALIBABA_CLOUD_ACCESS_KEY_SECRET"),
    ],
)
def test_missing_or_half_set_environment(tmp_path, env, message):
    with pytest.raises(CredentialError) as caught:
        resolve(None, env, tmp_path)
    assert message in str(caught.value)
    assert "--emulator" in str(caught.value) or "set both" in str(caught.value)


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("nobody", "no profile named 'nobody' (profiles: default, sts, role, half)"),
        ("role", "profile 'role' (mode RamRoleArn) lacks ram_role_arn"),
        ("half", "profile 'half' (mode StsToken) lacks sts_token"),
    ],
)
def test_bad_profiles(tmp_path, profile, message):
    write_config(tmp_path)
    with pytest.raises(CredentialError, match=re.escape(message)):
        resolve(profile, {}, tmp_path)


def test_file_readable_by_others_is_refused(tmp_path):
    path = write_config(tmp_path, mode=0o644)
    with pytest.raises(CredentialError) as caught:
        resolve("default", {}, tmp_path)
    assert str(caught.value) == (
        f"{path}: holds secrets but is accessible by other users (mode 0644); run: chmod 600 {path}"
    )


def test_broken_json_points_at_the_place(tmp_path):
    path = write_config(tmp_path, raw='{"profiles": [\n  {"name": "x",}\n]}')
    with pytest.raises(CredentialError) as caught:
        resolve("x", {}, tmp_path)
    assert str(caught.value).startswith(f"{path}:2:")
    assert "not valid JSON" in str(caught.value)


def test_missing_file_with_profile(tmp_path):
    with pytest.raises(CredentialError, match=r"config\.json: not found"):
        resolve("default", {}, tmp_path)


def test_secrets_never_show():
    creds = Credentials.of("AK-visible", "very-secret-value", "token-value-xyz")
    for text in (
        repr(creds),
        str(creds),
        f"{creds}",
        f"{creds.access_key_secret}",
        str(creds.security_token),
    ):
        assert "very-secret-value" not in text and "token-value-xyz" not in text
    assert "AK-visible" in repr(creds)
    with pytest.raises(TypeError):
        pickle.dumps(Secret("x"))


def test_cli_style_failure_has_no_traceback(tmp_path):
    write_config(tmp_path, raw="{broken")
    code = (
        "from audit.credentials.chain import resolve\nfrom audit.credentials.records import CredentialError\n"
        "import pathlib, sys\n"
        "try:\n    resolve('default', {}, pathlib.Path(sys.argv[1]))\n"
        "except CredentialError as e:\n    print(e)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=30
    )
    assert "not valid JSON" in done.stdout and "Traceback" not in done.stderr
