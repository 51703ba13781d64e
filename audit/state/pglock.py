"""An audit's lock on a PostgreSQL state: a session-level advisory lock, released with its session."""

from __future__ import annotations

import contextlib
import hashlib
from typing import Any

import psycopg
from psycopg import Connection

from audit.common.errors import UserError
from audit.common.locks import Holder
from audit.common.where import StateAt
from audit.state.pglayout import prepare
from audit.state.pglink import connect, reason


def lock_key(schema: str, audit: str) -> int:
    """The advisory lock's 64-bit key of one audit in one schema: audits apart run side by side."""
    digest = hashlib.sha256(f"vod-audit\0{schema}\0{audit}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


class PostgresLatch:
    """`pg_try_advisory_lock` on a connection of its own, held for the run. The server releases it
    when the session ends, a run killed with SIGKILL included; the words of who took it are a row
    of `holders`, kept until the next taker replaces them."""

    def __init__(self, at: StateAt, audit: str) -> None:
        self._at, self._audit = at, audit
        self._key = lock_key(at.schema, audit)
        self._db: Connection[Any] | None = None

    def open(self) -> None:
        self._db = connect(self._at)
        try:
            prepare(self._db, self._at.schema, self._at.shown, create=True)
        except psycopg.Error as exc:
            self.close()
            raise UserError(f"cannot open state {self._at.shown}: {reason(exc, self._at)}") from None
        except UserError:
            self.close()
            raise

    def _live(self) -> Connection[Any]:
        assert self._db is not None, "open() first"
        return self._db

    def take(self) -> bool:
        row = self._live().execute("SELECT pg_try_advisory_lock(%s)", (self._key,)).fetchone()
        return bool(row and row[0])

    def holder(self) -> Holder | None:
        row = self._live().execute("SELECT words FROM holders WHERE audit=%s", (self._audit,)).fetchone()
        return Holder.parse(row[0]) if row else None

    def mark(self, holder: Holder | None) -> None:
        # Clearing is best effort: a connection lost by then has released the lock already.
        with contextlib.suppress(psycopg.Error):
            if holder is None:
                self._live().execute("DELETE FROM holders WHERE audit=%s", (self._audit,))
            else:
                self._live().execute(
                    "INSERT INTO holders VALUES (%s, %s) ON CONFLICT (audit) DO UPDATE SET words=excluded.words",
                    (self._audit, holder.words()),
                )

    def close(self) -> None:
        if self._db is not None:
            self._db.close()  # the session ends, and with it the lock
            self._db = None
