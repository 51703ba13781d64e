"""Secrets never reach output, logs, reports or state; plain http only to loopback; TLS always verified."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest

from audit.emulator.config import EmulatorConfig
from audit.emulator.server import Emulator
from tests.conftest import sample_jobs
from tests.run.helpers import clean_env, cli, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

KEY_ID = "LTAI5tSecretsProbe"
SECRET = "S3cr3t-Zebra-9f8e7d6c5b4a"
TOKEN = "STS.Tok3n-Quokka-1a2b3c4d5e6f"
WRONG = "S3cr3t-Zebra-WRONG-0000"
AUDIT = Path(__file__).resolve().parents[2] / "audit"


def everything_written(folder: Path) -> bytes:
    return b"".join(path.read_bytes() for path in sorted(folder.rglob("*")) if path.is_file())


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_secret_and_token_appear_nowhere(start_emulator, tmp_path, signature):
    emulator = start_emulator(qps=0, access_key_id=KEY_ID, access_key_secret=SECRET, security_token=TOKEN)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    outputs = []
    for secret, expected in (
        (SECRET, 0),
        (WRONG, 1),
    ):  # a good run with every format, then a forced auth failure
        env = clean_env(
            ALIBABA_CLOUD_ACCESS_KEY_ID=KEY_ID,
            ALIBABA_CLOUD_ACCESS_KEY_SECRET=secret,
            ALIBABA_CLOUD_SECURITY_TOKEN=TOKEN,
        )
        done = cli(
            "run",
            str(manifest),
            "--endpoint",
            emulator.url,
            "--out",
            str(tmp_path / "out"),
            "--state",
            str(tmp_path / "state" / "state.db"),
            "--signature",
            signature,
            "-vv",
            "--refresh",
            env=env,
        )
        assert done.returncode == expected, done.stderr[-2000:]
        outputs.append(done.stdout + done.stderr)
    logs = "\n".join(outputs)
    assert "DEBUG" in logs and "GetJobDetail" in logs  # debug logging really was on
    assert "authentication failed" in outputs[1]
    written = everything_written(tmp_path / "out") + everything_written(tmp_path / "state")
    assert (tmp_path / "out" / "report.html").exists() and (tmp_path / "state" / "state.db").exists()
    for value in (SECRET, WRONG, TOKEN):
        assert value not in logs
        assert value.encode() not in written
    assert KEY_ID not in (tmp_path / "out" / "results.json").read_text()  # only its shortened form
    assert "LTAI****robe" in (tmp_path / "out" / "results.json").read_text()


def test_plain_http_to_a_non_loopback_endpoint_is_refused_before_any_call(tmp_path):
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    env = clean_env(ALIBABA_CLOUD_ACCESS_KEY_ID="a", ALIBABA_CLOUD_ACCESS_KEY_SECRET="b")
    done = cli(
        "run", str(manifest), "--endpoint", "http://192.0.2.10:8080", "--out", str(tmp_path / "o"), env=env
    )
    assert done.returncode == 1 and "refusing plain http to 192.0.2.10" in done.stderr
    assert "--insecure-http" in done.stderr


def test_no_code_path_turns_certificate_verification_off():
    source = "\n".join(path.read_text() for path in AUDIT.rglob("*.py"))
    assert not re.search(r"verify\s*=\s*False", source)
    assert "CERT_NONE" not in source and "_create_unverified_context" not in source
    assert "verify=True" in (AUDIT / "vod" / "client.py").read_text()


def test_the_emulator_binds_loopback_unless_told_otherwise():
    emulator = Emulator({}, EmulatorConfig())
    try:
        assert emulator.url.startswith("http://127.0.0.1:")
        assert emulator._server.socket.getsockname()[0] == "127.0.0.1"
        assert emulator._server.socket.family == socket.AF_INET
    finally:
        emulator._server.server_close()
