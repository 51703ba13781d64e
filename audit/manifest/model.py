"""Frozen records of a loaded manifest: the jobs and their expectations, with source positions."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import PurePath
from typing import Any

from audit.common.channels import ChannelSpec
from audit.common.findings import Finding
from audit.common.jobtypes import JobRef
from audit.manifest.matchers import Matcher
from audit.manifest.outputs import OutputCheck
from audit.manifest.positions import Position


@dataclass(frozen=True, slots=True)
class JobSpec:
    """One job to audit and what it must look like."""

    job_type: str
    job_id: str
    expect: tuple[tuple[str, Matcher], ...]
    position: Position
    max_duration: float | None = None
    min_duration: float | None = None
    description: str | None = None
    provider: str | None = None  # the provider alias it is audited with; None: the default provider
    origin: str = "jobs"  # the kind of list that named it: jobs (the manifest's own), csv, events, media
    # Findings the plan adds whatever the answer says (discovery's `unmanaged`, `missed_event`)
    noted: tuple[Finding, ...] = ()
    output: OutputCheck | None = None  # what a successful transcode job's stream must be tonight
    # Made once: every stage keys its dicts of 100,000 jobs by it, and building it on each use cost a
    # tenth of a second nightly run.
    ref: JobRef = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "ref", JobRef(self.job_type, self.job_id))

    @property
    def expectation(self) -> str:
        """What the job must look like, in words: `Status: "TranscodeSuccess"; max_duration: 30m`."""
        words = describe_expectation(self.expect, self.max_duration, self.min_duration)
        return words if self.output is None else f"{words}; {self.output.describe()}"


_DESCRIBED: dict[Any, str] = {}


def describe_expectation(
    expect: tuple[tuple[str, Matcher], ...], max_duration: float | None, min_duration: float | None
) -> str:
    """The words of an expectation, remembered: 100,000 jobs share a handful of them."""
    key: Any = (expect, max_duration, min_duration)
    try:
        return _DESCRIBED[key]
    except KeyError:
        pass
    except TypeError:  # a matcher holding a list or mapping cannot key a dict: say it afresh
        key = None
    from audit.common.timeutil import format_duration

    words = [f"{name}: {matcher.describe()}" for name, matcher in expect]
    words += [
        f"{name}: {format_duration(limit)}"
        for name, limit in (("max_duration", max_duration), ("min_duration", min_duration))
        if limit is not None
    ]
    text = "; ".join(words) or "nothing beyond an answer"
    if key is not None and len(_DESCRIBED) < 4096:
        _DESCRIBED[key] = text
    return text


@dataclass(frozen=True, slots=True)
class Waiver:
    """An accepted exception: findings of one job (of one field) that do not count until it expires."""

    job_id: str
    job_type: str | None
    field: str | None
    reason: str
    owner: str | None
    expires: date  # the last day it holds; it lapses at the end of that day, UTC
    position: Position

    def live(self, now: datetime) -> bool:
        return now < self.lapses

    @property
    def lapses(self) -> datetime:
        """The end of its last day, UTC: the calendar's last day lapses at the last representable moment."""
        if self.expires == date.max:
            return datetime.max.replace(tzinfo=UTC)
        return datetime.combine(self.expires + timedelta(days=1), time(), tzinfo=UTC)

    def covers(self, job_type: str, job_id: str, kind: str, field: str) -> bool:
        """Whether it waives a finding of this kind and field. A failed call (kind `error`) or an
        unknown job (`not_found`) is waived only by a waiver naming that kind as its field: a waiver
        is about what an answer says, never about having no answer."""
        if job_id != self.job_id or self.job_type not in (None, job_type):
            return False
        if kind in ("error", "not_found"):
            return self.field == kind
        return self.field in (None, field)


@dataclass(frozen=True, slots=True)
class Expectation:
    """A job type's `defaults:`, parsed: what a job no list describes (a discovered one) must look like."""

    expect: tuple[tuple[str, Matcher], ...] = ()
    max_duration: float | None = None
    min_duration: float | None = None
    provider: str | None = None
    output: OutputCheck | None = None

    @classmethod
    def of(cls, parsed: Mapping[str, Any], provider: Any) -> Expectation:
        """A type's parsed defaults (matchers, and duration bounds in seconds) and its provider setting."""
        expect = dict(parsed)
        upper, lower = expect.pop("max_duration", None), expect.pop("min_duration", None)
        output = expect.pop("output", None)
        alias = getattr(provider, "value", None)
        return cls(
            tuple(expect.items()),
            upper if isinstance(upper, float) else None,
            lower if isinstance(lower, float) else None,
            alias if isinstance(alias, str) else None,
            output if isinstance(output, OutputCheck) else None,
        )


FILTERS = ("status", "category", "storage_location", "tags")  # a media source's search filters


@dataclass(frozen=True, slots=True)
class Requirement:
    """One job every media of a source must have (`require:`): of a type, of a Definition (transcode)."""

    job_type: str
    definition: str | None = None
    count: int = 1

    @property
    def field(self) -> str:
        """The field of its finding when missing, and what a waiver names: require.transcode.SD."""
        return f"require.{self.job_type}" + (f".{self.definition}" if self.definition else "")

    def describe(self) -> str:
        which = f" with Definition {self.definition}" if self.definition else ""
        jobs = "job" if self.count == 1 else "jobs"
        return f"{'a' if self.count == 1 else self.count} successful {self.job_type} {jobs}{which}"


@dataclass(frozen=True, slots=True)
class RequiredMedia:
    """A media a source requires jobs of: where it was asked for, and the jobs the service listed."""

    media_id: str
    position: Position
    provider: str | None
    requirements: tuple[Requirement, ...]
    jobs: tuple[JobRef, ...]


@dataclass(frozen=True, slots=True)
class MediaQuery:
    """A `jobs_from: - media:` entry: the media the service is asked for, and which of their jobs."""

    position: Position
    since: datetime | None
    until: datetime | None  # None: when the run starts
    types: tuple[str, ...]  # JobType values ListJobInfo is asked for
    media_types: tuple[str, ...] = ("video", "audio")  # SearchType values
    status: tuple[str, ...] = ()
    category: int | None = None
    storage_location: str | None = None
    tags: tuple[str, ...] = ()
    media_ids: tuple[str, ...] = ()  # given: ListJobInfo for these, no search
    unmanaged: str = "ignore"  # ignore | report | fail
    provider: str | None = None
    provider_at: Position | None = None  # where its provider alias is written
    require: tuple[Requirement, ...] = ()  # the jobs every media of the window must have

    @property
    def filtered(self) -> bool:
        """Whether a filter narrows its window (a media outside the filters is skipped on purpose)."""
        return any(getattr(self, name) not in (None, ()) for name in FILTERS)

    @property
    def label(self) -> str:
        """How outputs name it: `media at night.yaml:5:5`."""
        return f"media at {self.position}"


@dataclass(frozen=True)
class SourceFile:
    path: str
    sha256: str


@dataclass(frozen=True)
class Manifest:
    """Every job of one or more manifest files (with their includes and CSV lists)."""

    roots: tuple[str, ...]
    sources: tuple[SourceFile, ...]
    provider: Mapping[str, Any] = field(default_factory=dict)
    jobs: tuple[JobSpec, ...] = ()
    waivers: tuple[Waiver, ...] = ()
    events: tuple[int, int] = (
        0,
        0,
    )  # event notifications read, and skipped (other types, outside the window)
    providers: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # alias: its settings
    name: str | None = None  # the manifests' `name:`
    notify: tuple[ChannelSpec, ...] = ()  # the channels told after a run
    queries: tuple[MediaQuery, ...] = ()  # `jobs_from: - media:`, asked of the service before a run
    defaults: Mapping[str, Expectation] = field(default_factory=dict)  # by job type
    allow_empty: bool = False  # `allow_empty: true`: a run with no job to audit is expected, not a failure
    # The jobs an event file names, whichever list's entry audits them (a listed job wins its own)
    evented: frozenset[JobRef] = frozenset()

    @property
    def audit(self) -> str:
        """The audit's name, which keeps its changes and trend apart from other manifests' in one
        state: `name:`, else the manifest files' names (`demo` for examples/demo.yaml)."""
        return self.name or audit_name(self.roots)

    @property
    def digest(self) -> str:
        """One digest over all source files, for run history."""
        import hashlib

        combined = hashlib.sha256()
        for source in self.sources:
            combined.update(f"{source.path}\0{source.sha256}\n".encode())
        return combined.hexdigest()


def audit_name(roots: Iterable[str]) -> str:
    """An audit's default name: its top-level manifests' file names without extension, sorted, joined."""
    stems = sorted({PurePath(root.replace("\\", "/")).stem or "manifest" for root in roots})
    return "+".join(stems) or "manifest"
