"""The job-source interface: what a kind of job list (`jobs:`, `jobs_from: - csv:`, `- events:`) gives the loader."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from audit.manifest.positions import Document, Path_, Position

if TYPE_CHECKING:  # a source is handed the reader; the reader imports the registry at run time
    from audit.jobtypes import JobRef
    from audit.manifest.reader import Reader
    from audit.run.connection import Connection


@dataclass(frozen=True, slots=True)
class RawJob:
    """A job entry as written (already checked against the manifest schema), with where."""

    raw: Mapping[str, Any]
    document: Document
    path: Path_
    origin: str = "jobs"  # the kind of list that named it: jobs (the manifest's own), csv, events
    provider: str | None = None  # the alias its job list (jobs_from) gives, where the job names none
    provider_at: Position | None = None  # where that alias is written

    @property
    def from_events(self) -> bool:
        """Named by an event notification: a listed job of the same key wins."""
        return self.origin == "events"


@dataclass(frozen=True, slots=True)
class Entry:
    """One job list as written in a manifest: its settings, where, and the folder its paths are relative to."""

    settings: Mapping[str, Any]
    document: Document
    path: Path_  # of the entry inside its document: ("jobs_from", 2)
    base: Path
    provider: str | None = None  # the entry's `provider:` alias, if any
    provider_at: Position | None = None

    def at(self, *keys: str | int) -> Position:
        """Where a key of the entry is written (the entry itself without keys)."""
        return self.document.at((*self.path, *keys))


class JobSource(Protocol):
    """A kind of job list. `read` adds the jobs it names to the reader (`reader.jobs`), each with its
    position, and every problem to `reader.problems`; it reports, never raises."""

    key: str  # the key that names it in a `jobs_from:` entry: csv, events
    options: frozenset[str]  # further keys only this kind takes (`provider` is every kind's)

    def read(self, entry: Entry, reader: Reader) -> None: ...


class ConnectedSource(Protocol):
    """A kind of job list that asks the service which jobs exist (a connection is needed, so it is not
    read when a manifest loads): the loader keeps its entry, and the command that holds the
    providers' connections calls `discover` for it before the plan is made."""

    key: str
    options: frozenset[str]

    def discover(self, entry: Entry, connection: Connection) -> Iterable[JobRef]: ...
