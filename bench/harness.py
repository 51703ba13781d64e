"""Processes for benchmarks: an emulator process, measured vod-audit runs, data and manifests."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import requests
import yaml

from audit.emulator.data import job_identity
from audit.emulator.generate import generate
from tests.run.helpers import EMULATOR_ENV, clean_env
from tests.run.helpers import run_args as cli_run_args

PYTHON = sys.executable
# Every process measured runs as an installed package does: from bytecode compiled once (pip compiles
# a wheel's modules at install). With PYTHONDONTWRITEBYTECODE set, as on some CI machines, each run
# would compile every module of the checkout again, a quarter of a night with no call.
ENV = {k: v for k, v in clean_env(**EMULATOR_ENV).items() if k != "PYTHONDONTWRITEBYTECODE"}


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="vod-audit-bench-") as folder:
        yield Path(folder)


def jobs(count: int, seed: int, folder: Path) -> tuple[Path, Path, list[tuple[str, str]]]:
    """(data file, manifest, job keys) of `count` generated jobs anchored a day ago: most finished by
    then, about 6% still running (the generator's mix), which a nightly run must ask about again."""
    bodies = generate(count, seed, datetime.now(UTC) - timedelta(days=1))
    keys = [job_identity(b) for b in bodies]
    data = folder / f"data-{count}-{seed}.json"
    data.write_text(json.dumps({"jobs": bodies}))
    manifest = folder / f"manifest-{count}-{seed}.yaml"
    manifest.write_text(
        yaml.safe_dump({"version": 1, "jobs": [{"id": i, "type": t} for t, i in keys]}, sort_keys=False)
    )
    return data, manifest, keys


@contextmanager
def emulator(data: Path, *flags: str) -> Iterator[str]:
    process = subprocess.Popen(
        [PYTHON, "-m", "audit", "emulator", "--port", "0", "--data", str(data), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=ENV,
    )
    try:
        line = process.stdout.readline().strip() if process.stdout else ""
        if not line.startswith("listening on "):
            raise RuntimeError(f"emulator did not start: {line!r}")
        yield line.removeprefix("listening on ")
    finally:
        process.terminate()
        process.wait(timeout=30)


def stats(url: str) -> dict[str, Any]:
    return requests.get(f"{url}/_emulator/stats", timeout=10).json()  # type: ignore[no-any-return]


def rate(url: str) -> float:
    """Requests per second the emulator saw from the audited key, first to last request."""
    found = stats(url)
    own = sum(
        n
        for key, outcomes in found["by_access_key"].items()
        if key not in ("background", "unauthenticated")
        for n in outcomes.values()
    )
    span = (found["last_at"] or 0) - (found["first_at"] or 0)
    return (own - 1) / span if span > 0 else 0.0


def measured(folder: Path, *args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    """A vod-audit command run in a child process that reports its own CPU, RSS and wall time."""
    report = folder / f"measure-{time.monotonic_ns()}.json"
    done = subprocess.run(
        [PYTHON, "-m", "bench.measure", str(report), *args],
        capture_output=True,
        text=True,
        env={**ENV, **(env or {})},
        cwd=Path(__file__).resolve().parents[1],
        timeout=3600,
    )
    result: dict[str, Any] = json.loads(report.read_text())
    result["stdout"], result["stderr"] = done.stdout, done.stderr
    return result


def run_args(manifest: Path, url: str, out: Path, state: Path | str, *extra: str) -> tuple[str, ...]:
    """`vod-audit run` of `manifest` against `url` as the tests run it: results.json only (the state a
    path or a PostgreSQL URL)."""
    return cli_run_args(manifest, out, url, "--format", "json", *extra, state=state)


def sdk_loop(folder: Path, url: str, keys: list[tuple[str, str]], seconds: float) -> dict[str, Any]:
    """The official SDK's sequential loop over `keys` for at most `seconds`: its counts, time and CPU."""
    listing = folder / f"keys-{time.monotonic_ns()}.json"
    listing.write_text(json.dumps(keys))
    done = subprocess.run(
        [PYTHON, "-m", "bench.sdk_loop", url, str(listing), str(seconds)],
        capture_output=True,
        text=True,
        check=True,
        env=ENV,
    )
    return json.loads(done.stdout)  # type: ignore[no-any-return]


def wall(*command: str, repeat: int = 5) -> float:
    """Median wall time of a command."""
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(
            command, capture_output=True, env=ENV, cwd=Path(__file__).resolve().parents[1], check=False
        )
        times.append(time.perf_counter() - started)
    return sorted(times)[len(times) // 2]


def startup() -> dict[str, float]:
    """Median wall times of `--help` and of validating the demo manifest: what a user waits for first."""
    return {
        "help": wall(PYTHON, "-m", "audit", "--help", repeat=11),
        "validate": wall(PYTHON, "-m", "audit", "validate", "examples/demo.yaml", repeat=5),
    }


def ceiling(folder: Path, per_client: int) -> dict[str, Any]:
    """The emulator's own rate with limits off, 8 client processes: how far above 15 QPS it serves."""
    data, _, keys = jobs(1000, 500, folder)
    with emulator(data, "--qps", "0") as url:
        done = subprocess.run(
            [PYTHON, "-m", "bench.clients", url, json.dumps(keys[:200]), str(per_client), "8"],
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        served = rate(url)
    return {"clients": 8, "ok": int(done.stdout.strip()), "rate": served}
