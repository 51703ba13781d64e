"""The job-source interface: what a kind of job list (`jobs:`, `jobs_from: - csv:`, `- events:`) gives the loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from audit.manifest.positions import Document, Path_, Position, Problem
from audit.timeutil import parse_duration, parse_utc

if TYPE_CHECKING:  # a source is handed the reader; the reader imports the registry at run time
    from audit.manifest.reader import Reader


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


def moment(value: Any, where: Position, reader: Reader) -> datetime | None:
    """A window's since/until: a UTC time, or a duration before the run; a problem at `where` else."""
    if value is None:
        return None
    found = parse_utc(value)
    if found is not None:
        return found
    seconds = parse_duration(value)
    if seconds is not None:
        reader.volatile = True  # counted back from the clock
        try:
            return reader.now - timedelta(seconds=seconds)
        except OverflowError:
            reader.problems.append(Problem(where, f"{value!r} reaches back before the year 1"))
            return None
    reader.problems.append(
        Problem(where, f"{value!r} is neither a UTC time YYYY-MM-DDTHH:mm:ssZ nor a duration such as 24h")
    )
    return None


class JobSource(Protocol):
    """A kind of job list. `read` adds the jobs it names to the reader (`reader.jobs`), each with its
    position, and every problem to `reader.problems`; it reports, never raises."""

    key: str  # the key that names it in a `jobs_from:` entry: csv, events, media
    options: frozenset[str]  # further keys only this kind takes (`provider` is every kind's)
    takes: type  # what its key's value is: a file name (str), or a mapping of settings (media)

    def read(self, entry: Entry, reader: Reader) -> None: ...
