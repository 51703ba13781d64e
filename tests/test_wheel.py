"""The wheel ships the schemas: installed into a fresh venv, `schema show envelope` works."""

from __future__ import annotations

import json
import subprocess
import sys
import venv
from pathlib import Path

import pytest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_installs_and_finds_its_schemas(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(dist), str(ROOT)],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(dist.glob("vod_audit-*.whl"))
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
        [str(env / "bin" / "python"), "-c", "import audit.schema.store as s; print(s.schema_dir())"],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=60,
    )
    assert "site-packages/audit/schemas" in installed.stdout
