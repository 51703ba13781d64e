"""A connection to the PostgreSQL state by libpq's rules, made again with backoff when it is lost."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, TypeVar

import psycopg
from psycopg import Connection, sql
from psycopg.conninfo import conninfo_to_dict

from audit.common.errors import UserError
from audit.common.where import StateAt

T = TypeVar("T")
RECONNECT_FOR = 30.0  # seconds a lost connection is tried again (a server restart), then given up
CONNECT_TIMEOUT = 10  # seconds libpq waits for one connection
FIRST_DELAY, LONGEST_DELAY = 0.25, 4.0  # the backoff between tries


def connect(at: StateAt) -> Connection[Any]:
    """A connection in autocommit (each change is an explicit transaction) whose tables are the
    schema's. The password comes from the URL, PGPASSWORD, ~/.pgpass or PGSERVICE's file, as libpq
    reads them; `application_name` and `connect_timeout` are ours unless the URL sets them."""
    given = _settings(at)
    extra: dict[str, Any] = {}
    if "application_name" not in given:
        extra["application_name"] = "vod-audit"
    if "connect_timeout" not in given:
        extra["connect_timeout"] = CONNECT_TIMEOUT
    try:
        db = psycopg.connect(at.url, autocommit=True, **extra)
    except psycopg.Error as exc:
        raise UserError(f"cannot open state {at.shown}: {reason(exc, at)}") from None
    db.execute(sql.SQL("SET search_path TO {}").format(sql.Identifier(at.schema)))
    return db


def reason(exc: BaseException, at: StateAt) -> str:
    """libpq's words on one line, with nothing of the password even if a server echoed it."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    text = text.removeprefix("connection failed: ")
    password = _settings(at).get("password")
    if password:
        text = text.replace(str(password), "***")
    return text.rstrip(".")


def _settings(at: StateAt) -> dict[str, Any]:
    try:
        return conninfo_to_dict(at.url)
    except psycopg.Error as exc:
        raise UserError(f"--state {at.shown}: not a PostgreSQL URL libpq reads ({reason(exc, at)})") from None


class Link:
    """The one connection a store uses; `run` makes it again when the server went away."""

    def __init__(self, at: StateAt, *, reconnect_for: float = RECONNECT_FOR) -> None:
        self.at = at
        self.db = connect(at)
        self._reconnect_for = reconnect_for

    def run(self, work: Callable[[Connection[Any]], T]) -> T:
        """`work` (one transaction, so that doing it again is safe) on a live connection. A lost
        connection is made again with backoff for a bounded time, then its error is raised."""
        deadline: float | None = None
        delay = FIRST_DELAY
        while True:
            try:
                if self.db.closed or self.db.broken:
                    self.db = connect(self.at)
                return work(self.db)
            except (psycopg.OperationalError, UserError):
                if not self.db.closed and not self.db.broken:
                    raise  # a refusal by a live server (a lock, a right), not a lost connection
                deadline = deadline or time.monotonic() + self._reconnect_for
                if time.monotonic() >= deadline:
                    raise
                time.sleep(delay)
                delay = min(delay * 2, LONGEST_DELAY)

    def close(self) -> None:
        self.db.close()
