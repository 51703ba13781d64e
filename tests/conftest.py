"""Shared fixtures: an emulator on 127.0.0.1 holding one valid job of each type."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from datetime import UTC, datetime, timedelta

import pytest

from audit.emulator.data import index
from audit.emulator.server import Emulator, EmulatorConfig
from audit.timeutil import format_utc
from tests.bodies import OBJECTS, body

StartEmulator = Callable[..., AbstractContextManager[Emulator]]


# Fixed once per process, so bodies built at collection and at run time are equal.
CREATED = datetime.now(UTC).replace(microsecond=0) - timedelta(days=1)


def sample_jobs() -> list[dict]:
    """One recent valid body per type (recent: inside the six-month window)."""
    done = CREATED + timedelta(seconds=42)
    jobs = []
    for job_type in OBJECTS:
        end = "FinishTime" if job_type == "workflow" else "CompleteTime"
        document = body(job_type, CreateTime=format_utc(CREATED), **{end: format_utc(done)})
        document.pop("RequestId")
        jobs.append(document)
    return jobs


@pytest.fixture
def start_emulator() -> Iterator[StartEmulator]:
    """Factory: `with start_emulator(jobs=[...], qps=0, ...) as emulator:`; all stopped at teardown."""
    started: list[Emulator] = []

    def start(jobs: list[dict] | None = None, **config: object) -> Emulator:
        emulator = Emulator(index(sample_jobs() if jobs is None else jobs, "test"), EmulatorConfig(**config))
        started.append(emulator.start())
        return emulator

    yield start
    for emulator in started:
        emulator.stop()
