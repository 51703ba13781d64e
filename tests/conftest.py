"""Shared fixtures: an emulator on 127.0.0.1 holding one valid job of each type."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from audit.common.timeutil import format_utc
from audit.emulator.config import EmulatorConfig
from audit.emulator.data import index, media_entries
from audit.emulator.server import Emulator
from tests.bodies import OBJECTS, body
from tests.pgserver import Server
from tests.pgserver import start as start_postgres

StartEmulator = Callable[..., Emulator]


@cache
def created() -> datetime:
    """A day before the first call, then fixed for the process: bodies built at collection and at run
    time are equal, and nothing reads the clock at import."""
    return datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def sample_jobs() -> list[dict]:
    """One recent valid body per type (recent: inside the six-month window)."""
    done = created() + timedelta(seconds=42)
    jobs = []
    for job_type in OBJECTS:
        end = "FinishTime" if job_type == "workflow" else "CompleteTime"
        document = body(job_type, CreateTime=format_utc(created()), **{end: format_utc(done)})
        document.pop("RequestId")
        jobs.append(document)
    return jobs


@pytest.fixture
def start_emulator() -> Iterator[StartEmulator]:
    """Factory: `emulator = start_emulator(jobs=[...], media=[...], qps=0, ...)`; all stopped at teardown."""
    started: list[Emulator] = []

    def start(jobs: list[dict] | None = None, media: list[dict] | None = None, **config: object) -> Emulator:
        served = index(sample_jobs() if jobs is None else jobs, "test")
        emulator = Emulator(served, EmulatorConfig(**config), media_entries(media, "test"))
        started.append(emulator.start())
        return emulator

    yield start
    for emulator in started:
        emulator.stop()


@dataclass(frozen=True)
class CliResult:
    """What a command printed and returned, named as subprocess.CompletedProcess names it."""

    returncode: int
    stdout: str
    stderr: str


@pytest.fixture
def vod_audit(monkeypatch: pytest.MonkeyPatch) -> Callable[..., CliResult]:
    """Runs `vod-audit ARGS` in this process through the real entry point (usage errors, guard, exit
    codes included): for commands that need no signals of their own and no separate process."""
    from click.testing import CliRunner

    from audit.cli import main

    def invoke(*args: str, stdin: str | None = None) -> CliResult:
        monkeypatch.setattr(sys, "argv", ["vod-audit", *args])
        with CliRunner().isolation(input=stdin) as (stdout, stderr, _):
            try:
                main()
            except SystemExit as exit:
                code = exit.code if isinstance(exit.code, int) else 1
            return CliResult(code, stdout.getvalue().decode(), stderr.getvalue().decode())

    return invoke


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[Server]:
    """A PostgreSQL server of this test process, started at its first use (tests/pgserver.py)."""
    server = start_postgres()
    yield server
    server.stop()


@pytest.fixture
def postgres_url(postgres_server: Server) -> str:
    """The URL of a fresh database on the test server (its superuser, with the password in it)."""
    return postgres_server.url(postgres_server.database())
