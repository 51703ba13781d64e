"""`vod-audit state copy`: a whole state moved between backends (SQLite and PostgreSQL), counts verified."""

from __future__ import annotations

from contextlib import closing

from audit.common.errors import ExitStatus, UserError
from audit.common.terminal import Echo
from audit.common.where import state_at
from audit.common.words import counted
from audit.state.backends import open_existing, open_store
from audit.state.store import TABLES

SAID = {
    "responses": ("answer", None),
    "runs": ("run", None),
    "job_findings": ("job with findings", "jobs with findings"),
    "accounts": ("account", None),
}


def copy(source: str, target: str, schemas: tuple[str | None, str | None], *, echo: Echo) -> ExitStatus:
    """Every table of the state at `source` into the empty state at `target` (made there), each in
    one transaction, then each table counted on both sides."""
    origin, destination = state_at(source, schemas[0]), state_at(target, schemas[1])
    if origin == destination:
        raise UserError(f"state copy: {origin} is both FROM and TO")
    reader = open_existing(origin)
    if reader is None:
        raise UserError(f"{origin}: no state there to copy")
    with closing(reader), closing(open_store(destination)) as writer:
        held = {table: len(writer.rows(table)) for table in ("responses", "runs")}
        if any(held.values()):
            raise UserError(
                f"{destination} already holds a state ({counted(held['runs'], 'run')}, "
                f"{counted(held['responses'], 'answer')}); nothing was copied; copy into an empty one"
            )
        copied = {}
        for table in TABLES:
            rows = reader.rows(table)
            writer.put(table, rows)
            copied[table] = len(rows)
        for table, count in copied.items():
            there = len(writer.rows(table))
            if there != count:
                raise UserError(
                    f"{destination}: {table} holds {there} rows after the copy, {count} were read"
                )
    said = ", ".join(counted(copied[t], *words) for t, words in SAID.items())
    echo(f"copied {said} from {origin} to {destination}; every table's count verified")
    return ExitStatus.OK
