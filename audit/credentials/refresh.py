"""Temporary credentials kept fresh during a run by one thread that renews them before they expire.

The workers go on signing with the current set; a call told its token expired asks for a renewal."""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from audit.credentials.sources import Source, Static
from audit.vod.keys import Credentials

MAX_MARGIN = 15 * 60  # seconds before expiry: the official library's stale time for STS credentials
GIVE_UP_AFTER = 5  # consecutive failed renewals once the current set has expired
WAIT_FOR_RENEWAL = 30.0  # seconds a worker waits for the set it reported expired to be replaced
# The longest single wait of the renewal thread: an Expiration in the year 9999 is looked at again
# hourly (threading's wait cannot take centuries), never slept on in one go.
LONGEST_WAIT = 3600.0
log = logging.getLogger("audit.credentials.refresh")


def renew_at(obtained: datetime, expiration: datetime) -> datetime:
    """When to renew: a third of the lifetime before expiry, at most MAX_MARGIN, so that an hour-long
    token is renewed 15 minutes early (as the library does) and an 8-second one after about 5 s."""
    lifetime = max(0.0, (expiration - obtained).total_seconds())
    return expiration - timedelta(seconds=min(MAX_MARGIN, lifetime / 3))


def backoff(failures: int) -> float:
    """Seconds before the next renewal attempt: 0.5, 1, 2, ... at most 30."""
    return float(min(30.0, 0.5 * 2 ** max(0, failures - 1)))


class Keys:
    """The credentials a run signs with now; renewed in the background when they are temporary.

    A renewal that fails is retried with backoff; once the current set has expired and GIVE_UP_AFTER
    renewals in a row have failed, `failure` says why and `on_failure` is called (the run stops).
    """

    def __init__(
        self,
        source: Source,
        first: Credentials,
        *,
        on_failure: Callable[[str], None] = lambda reason: None,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.source = source
        self._current = first
        self._on_failure = on_failure
        self._now = now
        self._changed = threading.Condition()
        self._wake = threading.Event()
        self._closed = threading.Event()
        self._obtained = now()
        self.failure: str | None = None
        self.renewals = 0
        self.access_key_ids: list[str] = [first.access_key_id]
        self._thread: threading.Thread | None = None

    @classmethod
    def fixed(cls, credentials: Credentials) -> Keys:
        return cls(Static(credentials), credentials)

    def current(self) -> Credentials:
        return self._current

    @property
    def temporary(self) -> bool:
        return self._current.expiration is not None

    def start(self) -> Keys:
        if self.temporary and self._thread is None:
            self._thread = threading.Thread(target=self._run, name="credentials-refresh", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._closed.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def expired(self, used: Credentials) -> None:
        """A call signed with `used` was told its token expired: renew now (once, however many
        workers report it) and wait, bounded, until a newer set is in place or renewal gave up."""
        if self._thread is None:
            # Nothing renews these keys (an STS token handed over in the environment or a profile):
            # every later call would fail the same way, so the run stops rather than turn each
            # remaining job into an error.
            if self.failure is None and used is self._current:
                self._give_up(
                    f"the security token of {self.source.describe} expired and that source cannot renew "
                    "it; give it a longer session, or let vod-audit assume the role itself (docs: Credentials)"
                )
            return
        with self._changed:
            if self._current is not used or self.failure is not None:
                return
            self._wake.set()
            self._changed.wait_for(
                lambda: self._current is not used or self.failure is not None or self._closed.is_set(),
                timeout=WAIT_FOR_RENEWAL,
            )

    def _due(self) -> float:
        """Seconds until the current set should be renewed."""
        return self._due_for(self._current, self._obtained)

    def _due_for(self, keys: Credentials, obtained: datetime | None = None) -> float:
        expiration = keys.expiration
        assert expiration is not None
        now = self._now()
        return (renew_at(obtained or now, expiration) - now).total_seconds()

    def _run(self) -> None:
        failures = 0
        hurried = 0  # renewals in a row whose fresh set was already due (a clock far off, a bad answer)
        fetched = -math.inf  # time.monotonic() of the last fetch
        while not self._closed.is_set():
            pause = backoff(failures) if failures else self._due()
            if pause > 0:
                woken = self._wake.wait(min(pause, LONGEST_WAIT))
                self._wake.clear()
                if not woken and pause > LONGEST_WAIT:
                    continue
            # Rate-bounded whatever the answers say or whoever woke us: sets that arrive already due
            # are fetched again after 0.5 s, 1 s, 2 s ... 30 s, never in a tight loop.
            gap = backoff(hurried) if hurried else 0.0
            if self._closed.wait(max(0.0, fetched + gap - time.monotonic())):
                return
            fetched = time.monotonic()
            try:
                fresh = self.source.fetch()
            except Exception as exc:  # whatever broke, a failed renewal: backed off, then given up
                failures += 1
                expiration = self._current.expiration
                log.warning("credentials: renewal %d failed: %s", failures, exc)
                if failures >= GIVE_UP_AFTER and expiration is not None and self._now() >= expiration:
                    self._give_up(f"the credentials expired and could not be renewed: {exc}")
                    return
                continue
            failures = 0
            hurried = hurried + 1 if fresh.expiration is not None and self._due_for(fresh) <= 0 else 0
            with self._changed:
                self._current = fresh
                self._obtained = self._now()
                self.renewals += 1
                if fresh.access_key_id not in self.access_key_ids:
                    self.access_key_ids.append(fresh.access_key_id)
                self._changed.notify_all()
            log.info("credentials: renewed from %s", self.source.describe)
            if fresh.expiration is None:
                return

    def _give_up(self, reason: str) -> None:
        # The run is told to stop before the waiting workers wake, so that their last calls count
        # as cut off (unaudited), never as job errors.
        self.failure = reason
        self._on_failure(reason)
        with self._changed:
            self._changed.notify_all()
