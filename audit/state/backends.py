"""Which backend a `--state` names: the one place a store or an audit's lock is opened."""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from audit.common.locks import FileLatch, Latch
from audit.common.where import StateAt
from audit.state.store import NoState, Store


def open_store(at: StateAt, *, read_only: bool = False, on_lost: Callable[[], None] | None = None) -> Store:
    """The store at `at`: an SQLite file (created for a run; `read_only` for reading commands) or a
    PostgreSQL schema (psycopg imported only then), which calls `on_lost` when the server stays gone
    (a full disk on SQLite lets the run go on: the file is there for the next run)."""
    if at.path is None:
        from audit.state.postgres import PostgresState

        return PostgresState(at, read_only=read_only, on_lost=on_lost)
    from audit.state.sqlite import State

    return State(at.path, read_only=read_only)


def open_existing(at: StateAt) -> Store | None:
    """The store at `at` for reading, or None when there is none yet (no file, no schema, no run)."""
    if at.path is not None and not at.path.is_file():
        return None
    try:
        return open_store(at, read_only=True)
    except NoState:
        return None


def audit_latch(at: StateAt, audit: str, what: str) -> Latch:
    """The lock of one audit on a state (several audits may share one): a file beside an SQLite state,
    an advisory lock on a PostgreSQL one."""
    if at.path is None:
        from audit.state.pglock import PostgresLatch

        return PostgresLatch(at, audit)
    key = hashlib.sha256(audit.encode()).hexdigest()[:16]
    return FileLatch(at.path.parent / f".{at.path.name}.{key}.lock", what)
