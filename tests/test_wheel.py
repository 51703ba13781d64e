"""The wheel and sdist: built from one version, installed into a fresh venv (and by pipx), they run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from audit import __version__

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_finds_its_schemas(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "build",
            "--wheel",
            "--sdist",
            "--no-isolation",
            "--outdir",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(dist.glob(f"vod_audit-{__version__}-*.whl"))  # the version of audit/__init__.py
    assert next(dist.glob(f"vod_audit-{__version__}.tar.gz"))
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        capture_output=True,
        timeout=600,
    )
    # Run from a folder outside the checkout so nothing but the wheel can supply the schemas.
    done = subprocess.run(
        [str(env / "bin" / "vod-audit"), "schema", "show", "envelope"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["$id"] == "urn:vod-audit:envelope"
    installed = subprocess.run(
        [str(env / "bin" / "python"), "-c", "import audit.common.schemafiles as s; print(s.schema_dir())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert "site-packages/audit/schemas" in installed.stdout
    for command in (
        [str(env / "bin" / "vod-audit"), "--help"],
        [str(env / "bin" / "python"), "-m", "audit", "--help"],
    ):
        assert subprocess.run(command, capture_output=True, cwd=tmp_path, timeout=60).returncode == 0
    version = subprocess.run(
        [str(env / "bin" / "vod-audit"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert version.stdout.strip() == f"vod-audit, version {__version__}"
    # pipx, as the install page says: its own venv, vod-audit on a PATH of its own.
    pipx = {**os.environ, "PIPX_HOME": str(tmp_path / "pipx"), "PIPX_BIN_DIR": str(tmp_path / "bin")}
    subprocess.run(
        [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "pipx"], check=True, timeout=600
    )
    done = subprocess.run(
        [str(env / "bin" / "python"), "-m", "pipx", "install", str(wheel)],
        env=pipx,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stderr
    ran = subprocess.run(
        [str(tmp_path / "bin" / "vod-audit"), "--version"], capture_output=True, text=True, timeout=60
    )
    assert ran.stdout.strip() == f"vod-audit, version {__version__}"
