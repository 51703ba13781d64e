"""Running the real CLI against an emulator: manifests, data files, environments, processes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import yaml

from audit.emulator.data import job_identity

ROOT = Path(__file__).resolve().parents[2]
EMULATOR_ENV = {
    "ALIBABA_CLOUD_ACCESS_KEY_ID": "emulator-ak",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "emulator-secret",
}


def clean_env(**extra: str) -> dict[str, str]:
    """The environment without any ALIBABA_CLOUD_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("ALIBABA_CLOUD_")}
    env["HOME"] = extra.pop("HOME", env.get("HOME", "/nonexistent"))
    env.update(extra)
    return env


def cli(
    *args: str,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 180,
    stdin: str | None = None,
):
    return subprocess.run(
        [sys.executable, "-m", "audit", *args],
        capture_output=True,
        text=True,
        input=stdin,
        env=env or clean_env(**EMULATOR_ENV),
        cwd=cwd or ROOT,
        timeout=timeout,
    )


def popen(*args: str, env: dict[str, str] | None = None) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "audit", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env or clean_env(**EMULATOR_ENV),
        cwd=ROOT,
    )


def write_manifest(
    path: Path, bodies: list[dict], expect: dict | None = None, extra: list[dict] | None = None
) -> Path:
    jobs = [
        {
            "id": job_identity(b)[1],
            "type": job_identity(b)[0],
            **({"expect": expect[job_identity(b)[0]]} if expect and job_identity(b)[0] in expect else {}),
        }
        for b in bodies
    ]
    path.write_text(yaml.safe_dump({"version": 1, "jobs": jobs + (extra or [])}, sort_keys=False))
    return path


def write_data(path: Path, bodies: list[dict]) -> Path:
    path.write_text(json.dumps({"jobs": bodies}))
    return path


def results(out: Path) -> dict:
    return json.loads((out / "results.json").read_text())


def state_of(out: Path) -> Path:
    """Where run_args keeps the state of a run reporting into `out`: beside it, since a report folder
    holds one run's reports and nothing else."""
    return out.parent / f"{out.name}.state.db"


def run_args(
    manifest: Path, out: Path, url: str, *extra: str, state: Path | str | None = None
) -> tuple[str, ...]:
    """`vod-audit run` against `url`, with reports in `out` and the state beside it (or at `state`, a
    path or a PostgreSQL URL)."""
    return (
        "run",
        str(manifest),
        "--endpoint",
        url,
        "--out",
        str(out),
        "--state",
        str(state or state_of(out)),
        "--no-progress",
        *extra,
    )


def emulated_args(manifest: Path, data: Path, out: Path, state: Path, *extra: str) -> tuple[str, ...]:
    """`vod-audit run` of `manifest` against the embedded emulator serving `data`."""
    return ("run", str(manifest), "--emulator", str(data), "--out", str(out), "--state", str(state), *extra)


@contextmanager
def refused_endpoint() -> Iterator[str]:
    """`HOST:PORT` of a socket bound and never listening, held while the block runs: every
    connection to it is refused, and no other process can take the port meanwhile."""
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        yield f"127.0.0.1:{closed.getsockname()[1]}"
