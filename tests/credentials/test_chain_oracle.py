"""Our credential chain against the official `alibabacloud-credentials` library, mode by mode.

The library reads its environment when imported, so each oracle answer comes from a child process
given the same environment and HOME as our chain. The instance metadata service is disabled for it
(ALIBABA_CLOUD_ECS_METADATA_DISABLED), so neither side ever sends a packet to the real address.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from audit.credentials import chain
from audit.credentials.sources import CredentialsUri, Static
from tests.loopback import serve

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

ORACLE = """
import json
from alibabacloud_credentials.provider.default import DefaultCredentialsProvider
found = DefaultCredentialsProvider().get_credentials()
print(json.dumps([found.get_access_key_id(), found.get_access_key_secret(), found.get_security_token(),
                  found.get_provider_name()]))
"""
URI_ANSWER = {
    "Code": "Success",
    "AccessKeyId": "STS.uri-key",
    "AccessKeySecret": "uri-secret",
    "SecurityToken": "uri-token",
    "Expiration": "2099-01-01T00:00:00Z",
}


def official(env: dict[str, str]) -> tuple[str, str, str | None, str]:
    done = subprocess.run(
        [sys.executable, "-c", ORACLE], env=env, capture_output=True, text=True, timeout=60, check=True
    )
    key, secret, token, provider = json.loads(done.stdout.strip().splitlines()[-1])
    return key, secret, token, provider.split("/")[1]  # "default/<step>/..."


def ours(env: dict[str, str], home: Path) -> tuple[str, str, str | None, str]:
    found = chain.resolve(None, env, home)
    creds = found.credentials
    token = creds.security_token.reveal() if creds.security_token else None
    return creds.access_key_id, creds.access_key_secret.reveal(), token, found.step


def environment(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env.update(HOME=str(home), ALIBABA_CLOUD_ECS_METADATA_DISABLED="true", **extra)
    return env


def cli_config(home: Path, current: str = "default", mode: int = 0o600) -> None:
    profiles = [
        {"name": "default", "mode": "AK", "access_key_id": "cli-ak", "access_key_secret": "cli-secret"},
        {
            "name": "temp",
            "mode": "StsToken",
            "access_key_id": "STS.cli",
            "access_key_secret": "cli-sts-secret",
            "sts_token": "cli-sts-token",
        },
    ]
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"current": current, "profiles": profiles}))
    path.chmod(mode)


def ini_file(home: Path, name: str = "credentials.ini") -> Path:
    path = home / ".alibabacloud" / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[default]\ntype = access_key\naccess_key_id = ini-ak\naccess_key_secret = ini-secret # a comment\n"
        "[other]\ntype = access_key\naccess_key_id = ini-other\naccess_key_secret = ini-other-secret\n"
    )
    path.chmod(0o600)
    return path


@contextmanager
def fixed_uri() -> Iterator[str]:
    """A credentials URI on loopback answering one fixed document (so both sides see equal values)."""
    with serve(lambda request: (200, json.dumps(URI_ANSWER).encode())) as (url, _):
        yield f"{url}/credentials?token=q"


CASES = {
    "environment AK": dict(
        env={"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-ak", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e"}
    ),
    "environment STS": dict(
        env={
            "ALIBABA_CLOUD_ACCESS_KEY_ID": "STS.env",
            "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e",
            "ALIBABA_CLOUD_SECURITY_TOKEN": "env-token",
        }
    ),
    "environment before the CLI file": dict(
        env={"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-ak", "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "e"}, cli=True
    ),
    "half-set environment falls through to the CLI file": dict(
        env={"ALIBABA_CLOUD_ACCESS_KEY_ID": "env-ak"}, cli=True
    ),
    "CLI profile AK (current)": dict(cli=True),
    "CLI profile StsToken (current)": dict(cli="temp"),
    "CLI profile chosen by ALIBABA_CLOUD_PROFILE": dict(env={"ALIBABA_CLOUD_PROFILE": "temp"}, cli=True),
    "CLI file before credentials.ini": dict(cli=True, ini=True),
    "CLI file disabled: credentials.ini": dict(
        env={"ALIBABA_CLOUD_CLI_PROFILE_DISABLED": "true"}, cli=True, ini=True
    ),
    "credentials.ini [default]": dict(ini=True),
    "credentials.ini section by ALIBABA_CLOUD_PROFILE": dict(
        env={"ALIBABA_CLOUD_PROFILE": "other"}, ini=True
    ),
    "ALIBABA_CLOUD_CREDENTIALS_FILE": dict(ini="elsewhere.ini"),
    "credentials URI last": dict(uri=True),
    "credentials.ini before the credentials URI": dict(ini=True, uri=True),
}


@pytest.mark.parametrize("case", list(CASES))
def test_our_chain_picks_what_the_official_library_picks(tmp_path, case):
    spec = CASES[case]
    extra = dict(spec.get("env", {}))
    if spec.get("cli"):
        cli_config(tmp_path, spec["cli"] if isinstance(spec["cli"], str) else "default")
    if spec.get("ini"):
        path = ini_file(tmp_path, spec["ini"] if isinstance(spec["ini"], str) else "credentials.ini")
        if spec["ini"] != True:  # noqa: E712 - a file name: found through the variable only
            extra["ALIBABA_CLOUD_CREDENTIALS_FILE"] = str(path)
    with fixed_uri() as uri:
        if spec.get("uri"):
            extra["ALIBABA_CLOUD_CREDENTIALS_URI"] = uri
        env = environment(tmp_path, **extra)
        theirs = official(env)
        assert ours(env, tmp_path) == theirs, case


def test_the_uri_source_never_shows_its_query(tmp_path):
    with fixed_uri() as uri:
        found = chain.resolve(None, environment(tmp_path, ALIBABA_CLOUD_CREDENTIALS_URI=uri), tmp_path)
    assert isinstance(found.source, CredentialsUri)
    assert "token=q" not in found.source.describe and "token=q" not in found.credentials.source
    assert found.credentials.expiration is not None and found.credentials.expiration.year == 2099


def test_the_metadata_service_is_never_probed_unless_named(tmp_path):
    # Nothing configured: the library would probe 100.100.100.200 here; our chain stops and says so.
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env.update(HOME=str(tmp_path), VOD_AUDIT_ECS_METADATA_ENDPOINT="http://127.0.0.1:9")  # would refuse
    with pytest.raises(chain.CredentialError, match="no credentials found; set ALIBABA_CLOUD_ACCESS_KEY_ID"):
        chain.resolve(None, env, tmp_path)


def test_a_static_source_is_itself(tmp_path):
    found = chain.resolve(
        None,
        environment(tmp_path, ALIBABA_CLOUD_ACCESS_KEY_ID="a", ALIBABA_CLOUD_ACCESS_KEY_SECRET="b"),
        tmp_path,
    )
    assert isinstance(found.source, Static) and found.source.identity == "key a"
