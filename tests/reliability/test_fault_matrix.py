"""Fault matrix: 1,000 jobs with 10% of calls failing by each fault kind, all mixed, and throttling."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta
from functools import cache

import pytest

from audit.emulator.data import job_identity
from audit.emulator.generate import generate
from audit.schema.validate import is_valid, validate_response
from tests.run.helpers import cli, results, run_args, write_manifest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

JOBS = 1000
RETRIES = 4

MATRIX = {
    "internal": {"fault_rate": 0.1, "faults": ("internal",)},
    "unavailable": {"fault_rate": 0.1, "faults": ("unavailable",)},
    "reset": {"fault_rate": 0.1, "faults": ("reset",)},
    "truncated": {"fault_rate": 0.1, "faults": ("truncated",)},
    "slow": {"fault_rate": 0.1, "faults": ("slow",), "slow_seconds": 1.5},
    "mixed": {
        "fault_rate": 0.1,
        "faults": ("internal", "unavailable", "reset", "truncated", "slow"),
        "slow_seconds": 1.5,
    },
    "throttling": {"qps": 80},
}


@cache
def bodies() -> list[dict]:
    """The jobs, completed a day before the first test asks (nothing reads the clock at import)."""
    return generate(JOBS, 900, datetime.now(UTC) - timedelta(days=1))


@pytest.mark.parametrize("case", list(MATRIX))
def test_fault_matrix(start_emulator, tmp_path, case):
    config = {"qps": 0, "seed": 7, **MATRIX[case]}
    planted = bodies()
    emulator = start_emulator(jobs=planted, **config)
    manifest = write_manifest(tmp_path / "m.yaml", planted)
    qps = "120" if case == "throttling" else "400"
    options = (
        "--format",
        "json",
        "--qps",
        qps,
        "--concurrency",
        "24",
        "--timeout",
        "0.5",
        "--retries",
        str(RETRIES),
    )
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url, *options), timeout=240)
    assert done.returncode in (0, 2, 3), done.stderr
    document = results(tmp_path / "out")

    # Every manifest job has exactly one result: none lost, none twice.
    keys = Counter((r["job_type"], r["job_id"]) for r in document["results"])
    assert set(keys) == {job_identity(b) for b in planted} and max(keys.values()) == 1
    assert not document["incomplete"]

    for result in document["results"]:
        # No job is ok without a response that validates.
        if result["outcome"] == "ok":
            assert result["response"] is not None and is_valid(validate_response(result["response"]))
        # Retries stay within --retries.
        assert result["attempts"] <= RETRIES + 1

    # The summary's counts equal what the emulator saw.
    seen = emulator.counters.snapshot()
    own = seen["by_access_key"]["emulator-ak"]
    assert document["calls"] == sum(own.values())
    assert document["throttles"] == own.get("Throttling.User", 0)
    assert document["retries"] == document["calls"] - JOBS
    faults = sum(n for outcome, n in own.items() if outcome.startswith("fault_"))
    if case == "throttling":
        assert document["throttles"] > 0
    else:
        assert 0.05 * document["calls"] < faults < 0.16 * document["calls"]
        # With 10% failing and 4 retries, a job failing every attempt is rare; most runs have none.
        assert document["counts"]["error"] <= 3
