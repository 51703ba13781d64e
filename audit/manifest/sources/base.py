"""The job-source interface: what a kind of job list (`jobs:`, `jobs_from: - csv:`, `- events:`) gives the loader."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

from audit.common.timeutil import parse_duration, parse_utc
from audit.manifest.model import MediaQuery, SourceFile
from audit.manifest.positions import Document, Path_, Position, Problem


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


class Reading(Protocol):
    """What a source may ask of the manifest being read: the run's clock, and a file's text (its
    problems and digest kept by the reader, as for every file a manifest reads)."""

    @property
    def now(self) -> datetime: ...

    def read_text(self, path: Path, where: Position) -> str | None: ...


@dataclass
class Found:
    """What one job list yielded: the reader adds it to the manifest's."""

    jobs: list[RawJob] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    queries: list[MediaQuery] = field(default_factory=list)  # media sources, asked of the service later
    files: dict[str, SourceFile] = field(default_factory=dict)  # files read besides read_text's
    events_read: int = 0
    events_skipped: int = 0
    volatile: bool = False  # its meaning depends on the clock or on a glob: never cached


def moment(value: Any, where: Position, now: datetime, out: Found) -> datetime | None:
    """A window's since/until: a UTC time, or a duration before `now`; a problem at `where` else."""
    if value is None:
        return None
    found = parse_utc(value)
    if found is not None:
        return found
    seconds = parse_duration(value)
    if seconds is not None:
        out.volatile = True  # counted back from the clock
        try:
            return now - timedelta(seconds=seconds)
        except OverflowError:
            out.problems.append(Problem(where, f"{value!r} reaches back before the year 1"))
            return None
    out.problems.append(
        Problem(where, f"{value!r} is neither a UTC time YYYY-MM-DDTHH:mm:ssZ nor a duration such as 24h")
    )
    return None


class JobSource(Protocol):
    """A kind of job list. `read` returns the jobs it names, each with its position, and every
    problem; it reports, never raises."""

    key: str  # the key that names it in a `jobs_from:` entry: csv, events, media
    options: frozenset[str]  # further keys only this kind takes (`provider` is every kind's)
    takes: type  # what its key's value is: a file name (str), or a mapping of settings (media)

    def read(self, entry: Entry, reader: Reading) -> Found: ...
