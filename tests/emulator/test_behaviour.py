"""Quota, unknown jobs, the six-month window, faults, latency and counters, through the real client."""

from __future__ import annotations

import collections
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from audit.common.jobtypes import JobRef
from audit.common.timeutil import format_utc
from audit.emulator.data import job_identity
from audit.vod.client import VodClient
from audit.vod.endpoints import resolve
from audit.vod.keys import Credentials
from audit.vod.records import Answer, ApiError
from audit.vod.signing import canonical_query, sign_v3
from tests.bodies import body
from tests.conftest import sample_jobs


def client(emulator, timeout=5.0, signature="v3"):
    return VodClient(
        resolve(endpoint=emulator.url),
        Credentials.of("emulator-ak", "emulator-secret"),
        timeout=timeout,
        signature=signature,
    )


def test_quota_load_100_requests_at_15_qps(start_emulator):
    """Fired as fast as possible: at most 15 successes in any one-second window, Throttling.User for the rest."""
    emulator = start_emulator(qps=15)
    url = emulator.url
    results: list[tuple[float, int, str]] = []
    lock = threading.Lock()

    def fire(count):
        session = requests.Session()
        for _ in range(count):
            query = {"JobId": "x", "JobType": "ai"}
            headers = sign_v3(
                method="POST",
                host=url.removeprefix("http://"),
                query=query,
                action="GetJobDetail",
                version="2017-03-21",
                body=b"",
                access_key_id="emulator-ak",
                access_key_secret="emulator-secret",
                security_token=None,
                date=format_utc(datetime.now(UTC)),
                nonce=uuid.uuid4().hex,
            )
            response = session.post(f"{url}/?{canonical_query(query)}", headers=headers, timeout=10)
            code = response.json().get("Code", "ok")
            with lock:
                results.append((time.monotonic(), response.status_code, code))

    threads = [threading.Thread(target=fire, args=(25,)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 100
    ok_times = sorted(t for t, status, _ in results if status == 200)
    throttled = [r for r in results if r[2] == "Throttling.User"]
    assert len(ok_times) + len(throttled) == 100
    assert all(status == 400 for _, status, _ in throttled)
    assert throttled, "100 requests at full speed must meet the limit"
    left = 0
    for right, moment in enumerate(ok_times):
        while moment - ok_times[left] >= 1.0:
            left += 1
        assert right - left + 1 <= 15
    counted = emulator.counters.snapshot()["by_access_key"]["emulator-ak"]
    assert counted.get("Throttling.User", 0) == len(throttled)


def test_qps_zero_turns_the_limit_off(start_emulator):
    emulator = start_emulator(qps=0)
    c = client(emulator)
    results = [c.get_job_detail(JobRef("ai", "x")) for _ in range(40)]
    assert all(isinstance(r, Answer) for r in results)


def test_background_load_consumes_the_quota(start_emulator):
    emulator = start_emulator(qps=5, background_qps=5)
    time.sleep(1.2)
    c = client(emulator)
    results = [c.get_job_detail(JobRef("ai", "x")) for _ in range(5)]
    assert any(isinstance(r, ApiError) and r.throttled for r in results)
    assert emulator.counters.snapshot()["by_access_key"]["background"]["ok"] >= 4


def test_unknown_job_empty_and_error_modes(start_emulator):
    empty = client(start_emulator(qps=0)).get_job_detail(JobRef("transcode", "nope"))
    assert isinstance(empty, Answer) and set(empty.body) == {"RequestId", "JobType"}
    error = client(start_emulator(qps=0, unknown_job="error")).get_job_detail(JobRef("transcode", "nope"))
    assert isinstance(error, ApiError) and error.code == "InvalidParameter" and error.job_not_found


def test_job_older_than_the_window_is_unknown(start_emulator):
    old = body("transcode", JobId="old-one", CreateTime=format_utc(datetime.now(UTC) - timedelta(days=200)))
    recent = body("transcode", JobId="recent", CreateTime=format_utc(datetime.now(UTC) - timedelta(days=100)))
    for document in (old, recent):
        document.pop("RequestId")
    emulator = start_emulator(jobs=[old, recent], qps=0)
    c = client(emulator)
    assert "TranscodeJobDetail" not in c.get_job_detail(JobRef("transcode", "old-one")).body
    assert "TranscodeJobDetail" in c.get_job_detail(JobRef("transcode", "recent")).body
    narrow = client(start_emulator(jobs=[old, recent], qps=0, max_age_days=30))
    assert "TranscodeJobDetail" not in narrow.get_job_detail(JobRef("transcode", "recent")).body


def test_planted_anomalies_are_returned_as_is(start_emulator):
    created = datetime.now(UTC) - timedelta(days=1)
    odd = body(
        "ai", CreateTime=format_utc(created), CompleteTime=format_utc(created) + "\n", Extra={"nested": [1]}
    )
    odd.pop("RequestId")
    emulator = start_emulator(jobs=[odd], qps=0)
    answer = client(emulator).get_job_detail(JobRef("ai", odd["AIJobDetail"]["JobId"]))
    assert answer.body["AIJobDetail"] == odd["AIJobDetail"]


@pytest.mark.parametrize(
    ("fault", "kind", "code"),
    [
        ("internal", "api", "InternalError"),
        ("unavailable", "api", "ServiceUnAvailable"),
        ("reset", "connection", "ConnectionError"),
        ("truncated", "connection", "ConnectionError"),
        ("slow", "timeout", "Timeout"),
    ],
)
def test_each_fault_kind(start_emulator, fault, kind, code):
    emulator = start_emulator(qps=0, fault_rate=1.0, faults=(fault,), slow_seconds=1.5)
    result = client(emulator, timeout=0.5).get_job_detail(JobRef("ai", "x"))
    assert isinstance(result, ApiError) and (result.kind, result.code, result.retryable) == (kind, code, True)
    assert emulator.counters.snapshot()["by_outcome"] == {f"fault_{fault}": 1}


def test_fault_rate_is_a_share_and_seeded(start_emulator):
    shares = []
    for _ in range(2):
        emulator = start_emulator(qps=0, fault_rate=0.3, faults=("internal",), seed=42)
        c = client(emulator)
        outcomes = [isinstance(c.get_job_detail(JobRef("ai", "x")), Answer) for _ in range(200)]
        shares.append(outcomes)
    assert shares[0] == shares[1]
    assert 0.2 < shares[0].count(False) / 200 < 0.4


def test_latency_is_applied(start_emulator):
    """Not a timing assertion on our code: the emulator's own added delay must be observable at all."""
    emulator = start_emulator(qps=0, latency_ms=300)
    c = client(emulator)
    started = time.monotonic()
    c.get_job_detail(JobRef("ai", "x"))
    assert time.monotonic() - started >= 0.2 - 0.001


def test_counters_by_job_and_outcome(start_emulator):
    emulator = start_emulator(qps=0)
    c = client(emulator)
    stored = sample_jobs()
    for document in stored:
        c.get_job_detail(JobRef(*job_identity(document)))
    c.get_job_detail(JobRef(*job_identity(stored[0])))
    c.get_job_detail(JobRef("ai", "missing"))
    snapshot = emulator.counters.snapshot()
    assert snapshot["total"] == 6
    assert snapshot["by_outcome"] == {"ok": 5, "not_found": 1}
    answered = collections.Counter(snapshot["jobs_answered"])
    first = "/".join(job_identity(stored[0]))
    assert answered[first] == 2 and sum(answered.values()) == 6
    over_http = requests.get(f"{emulator.url}/_emulator/stats", timeout=5).json()
    assert over_http["total"] == 6
