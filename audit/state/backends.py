"""Which backend a `--state` names: the one place a store is opened."""

from __future__ import annotations

from pathlib import Path

from audit.state.sqlite import State
from audit.state.store import Store


def open_store(where: Path, *, read_only: bool = False) -> Store:
    """The store at `where`: an SQLite file (created for a run; `read_only` for reading commands)."""
    return State(where, read_only=read_only)
