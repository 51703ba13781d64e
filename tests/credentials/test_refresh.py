"""Renewal of temporary credentials: when, by whom, and what happens when it keeps failing."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from audit.credentials.records import CredentialError
from audit.credentials.refresh import MAX_MARGIN, Keys, backoff, renew_at
from audit.credentials.sources import Static
from audit.vod.keys import Credentials

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


class Issuer:
    """A source handing out numbered temporary credentials, `lifetime` seconds each; fails on demand."""

    describe = identity = "test issuer"

    def __init__(self, lifetime: float, fail_from: int | None = None) -> None:
        self.lifetime = lifetime
        self.fail_from = fail_from
        self.fetches = 0
        self.lock = threading.Lock()

    def fetch(self) -> Credentials:
        with self.lock:
            self.fetches += 1
            n = self.fetches
        if self.fail_from is not None and n >= self.fail_from:
            raise CredentialError("the issuer is down")
        expires = datetime.now(UTC) + timedelta(seconds=self.lifetime)
        return Credentials.of(f"STS.{n}", f"secret-{n}", f"token-{n}", "test", expires)


@given(st.floats(min_value=1, max_value=43200))
def test_renewal_comes_before_expiry_by_a_third_of_the_lifetime_at_most_15_minutes(lifetime):
    obtained = datetime(2026, 1, 1, tzinfo=UTC)
    expiration = obtained + timedelta(seconds=lifetime)
    margin = (expiration - renew_at(obtained, expiration)).total_seconds()
    assert 0 < margin <= MAX_MARGIN + 1e-6
    assert abs(margin - min(MAX_MARGIN, lifetime / 3)) < 1e-3


def test_backoff_doubles_and_is_capped():
    assert [backoff(n) for n in (1, 2, 3, 4)] == [0.5, 1.0, 2.0, 4.0] and backoff(20) == 30.0


def test_short_lived_credentials_are_renewed_in_the_background_before_they_expire():
    issuer = Issuer(lifetime=1.5)
    keys = Keys(issuer, issuer.fetch()).start()
    try:
        seen = set()
        deadline = datetime.now(UTC) + timedelta(seconds=4)
        while datetime.now(UTC) < deadline:
            current = keys.current()
            assert current.expiration is not None and current.expiration > datetime.now(UTC)  # never stale
            seen.add(current.access_key_id)
            threading.Event().wait(0.05)
    finally:
        keys.close()
    assert len(seen) >= 3 and keys.renewals >= 2 and keys.failure is None


def test_many_workers_reporting_expiry_cause_one_renewal():
    issuer = Issuer(lifetime=3600)
    keys = Keys(issuer, issuer.fetch()).start()
    used = keys.current()
    try:
        workers = [threading.Thread(target=keys.expired, args=(used,)) for _ in range(8)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join(10)
        assert keys.current() is not used and issuer.fetches == 2 and keys.renewals == 1
        keys.expired(used)  # reported again after the renewal: nothing more to do
        assert issuer.fetches == 2
    finally:
        keys.close()


def test_renewal_that_keeps_failing_past_expiry_gives_up_and_says_why():
    issuer = Issuer(lifetime=1, fail_from=2)
    stopped = threading.Event()
    reasons: list[str] = []
    keys = Keys(issuer, issuer.fetch(), on_failure=lambda r: (reasons.append(r), stopped.set())).start()
    try:
        assert stopped.wait(20)
    finally:
        keys.close()
    assert keys.failure == reasons[0] and "could not be renewed: the issuer is down" in reasons[0]
    assert issuer.fetches >= 6  # the first, then five failed renewals


def test_keys_nothing_can_renew_stop_the_run_once_told_they_expired():
    creds = Credentials.of("STS.handed-over", "s", "t", "environment")
    reasons: list[str] = []
    keys = Keys(Static(creds), creds, on_failure=reasons.append).start()
    assert not keys.temporary and keys.failure is None  # no expiry known: no renewal thread
    keys.expired(creds)
    keys.expired(creds)  # reported by several workers: said once
    assert keys.current() is creds and keys.renewals == 0
    assert len(reasons) == 1 and "environment expired and that source cannot renew it" in reasons[0]
    keys.close()
