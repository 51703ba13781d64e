"""Phase one of loading: reads every file of an include tree, collecting settings and raw jobs."""

from __future__ import annotations

import contextlib
import glob
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from audit.files import file_sha256, read_input
from audit.jobtypes import NAMES
from audit.manifest.csvlist import read_csv
from audit.manifest.events import EventJobs, read_events
from audit.manifest.model import SourceFile
from audit.manifest.positions import Document, Path_, Position, Problem, pack, parse_yaml
from audit.manifest.schema_check import schema_problems
from audit.timeutil import parse_duration, parse_utc


@dataclass(frozen=True, slots=True)
class Setting:
    """A value as written, with where: variables, defaults and provider settings before interpolation."""

    value: Any
    document: Document
    path: Path_


@dataclass(frozen=True, slots=True)
class RawJob:
    """A job entry as written (already checked against the manifest schema), with where."""

    raw: Mapping[str, Any]
    document: Document
    path: Path_
    from_events: bool = False  # named by an event notification: a listed job of the same key wins
    provider: str | None = None  # the alias its job list (jobs_from) gives, where the job names none
    provider_at: Position | None = None  # where that alias is written


class Reader:
    """Reads manifests, their includes and CSV lists; problems are collected, never raised."""

    def __init__(self, now: datetime | None = None) -> None:
        self.now = now or datetime.now(UTC)  # what since/until durations count back from
        self.events_read = self.events_skipped = 0
        self.problems: list[Problem] = []
        self.sources: dict[str, SourceFile] = {}
        self.vars: dict[str, Setting] = {}
        self.defaults: dict[str, dict[str, Setting]] = {t: {} for t in NAMES}
        self.provider: dict[str, Setting] = {}
        self.providers: dict[str, Setting] = {}  # alias: its settings block
        self.jobs: list[RawJob] = []
        self.waivers: list[RawJob] = []  # waiver entries as written, with where
        self._read: set[Path] = set()  # resolved paths already read: an include tree read once each

    def read_text(self, path: Path, where: Position) -> str | None:
        try:
            data = read_input(path)
        except IsADirectoryError:
            self.problems.append(Problem(where, f"{path}: is a directory, not a file"))
            return None
        except OSError as exc:
            self.problems.append(Problem(where, f"cannot read {path}: {exc.strerror or exc}"))
            return None
        self.sources.setdefault(str(path), SourceFile(str(path), hashlib.sha256(data).hexdigest()))
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problems.append(Problem(where, f"{path} is not UTF-8 text (byte {exc.start})"))
            return None

    def manifest(self, path: Path, stack: tuple[Path, ...] = (), where: Position | None = None) -> None:
        """Reads one manifest file and, recursively, what it includes; `stack` detects cycles."""
        resolved = path.resolve()
        if resolved in stack:
            chain = " -> ".join(p.name for p in (*stack[stack.index(resolved) :], resolved))
            self.problems.append(Problem(where or Position(str(path), 1, 1), f"include cycle: {chain}"))
            return
        if resolved in self._read:
            return  # included twice without a cycle: read once
        self._read.add(resolved)
        text = self.read_text(path, where or Position(str(path), 1, 1))
        if text is None:
            return
        document = parse_yaml(text, str(path))
        self.problems.extend(document.problems)
        value = document.value
        if value is None and not document.problems:
            self.problems.append(Problem(Position(str(path), 1, 1), "empty manifest"))
            return
        if not isinstance(value, dict):
            if value is not None:
                self.problems.append(Problem(document.at(()), "a manifest is a mapping (version, jobs, ...)"))
            return
        self.problems.extend(schema_problems(document))
        if not stack and "version" not in value:
            self.problems.append(
                Problem(document.at(()), "missing required key 'version' (write version: 1)")
            )
        self._collect(document, value, is_root=not stack)
        base = path.parent
        for index, name in enumerate(_list(value.get("include"))):
            if isinstance(name, str) and name:
                self.manifest(base / name, (*stack, resolved), document.at(("include", index)))
        for index, entry in enumerate(_list(value.get("jobs_from"))):
            if not isinstance(entry, dict):
                continue
            listing: Path_ = ("jobs_from", index)
            if ("csv" in entry) == ("events" in entry):
                self.problems.append(
                    Problem(document.at(listing), "a job list is either csv: FILE or events: FILE")
                )
            elif isinstance(entry.get("csv"), str) and entry["csv"]:
                if {"since", "until"} & entry.keys():
                    self.problems.append(Problem(document.at(listing), "since/until apply to events: only"))
                self.csv(
                    base / entry["csv"],
                    document.at((*listing, "csv")),
                    self._listed_provider(entry, document, listing),
                )
            elif isinstance(entry.get("events"), str) and entry["events"]:
                self.events(base, entry, document, listing)

    def _collect(self, document: Document, value: Mapping[str, Any], *, is_root: bool) -> None:
        for block, table, what in (
            ("provider", self.provider, "provider setting"),
            ("providers", self.providers, "provider alias"),
        ):
            settings = value.get(block)
            if not isinstance(settings, dict):
                continue
            if not is_root:
                self.problems.append(
                    Problem(
                        document.at((block,), key=True),
                        f"{block}: is only allowed in a top-level manifest, not in an included one",
                    )
                )
            for name, setting in settings.items():
                self._merge(table, name, Setting(setting, document, (block, name)), what)
        variables = value.get("vars")
        if isinstance(variables, dict):
            for name, setting in variables.items():
                self._merge(self.vars, str(name), Setting(setting, document, ("vars", name)), "variable")
        defaults = value.get("defaults")
        if isinstance(defaults, dict):
            for job_type, expect in defaults.items():
                if job_type in self.defaults and isinstance(expect, dict):
                    for name, setting in expect.items():
                        where = Setting(setting, document, ("defaults", job_type, name))
                        self._merge(self.defaults[job_type], name, where, f"default for {job_type}")
        for index, job in enumerate(_list(value.get("jobs"))):
            if isinstance(job, dict):
                self.jobs.append(RawJob(job, document, ("jobs", index)))
        for index, waiver in enumerate(_list(value.get("waivers"))):
            if isinstance(waiver, dict):
                self.waivers.append(RawJob(waiver, document, ("waivers", index)))

    def _merge(self, table: dict[str, Setting], name: str, setting: Setting, what: str) -> None:
        """The same name may be set in several files, but only to one value."""
        first = table.get(name)
        if first is not None and first.value != setting.value:
            where = setting.document.at(setting.path, key=True)
            earlier = first.document.at(first.path)
            self.problems.append(Problem(where, f"{what} {name!r} is already set differently at {earlier}"))
            return
        table.setdefault(name, setting)

    def events(self, base: Path, entry: Mapping[str, Any], document: Document, where: Path_) -> None:
        """The jobs VOD event notifications name (see events.py), each at its FILE:LINE."""
        pattern = entry["events"]
        paths = sorted(Path(p) for p in glob.glob(str(base / pattern)))
        if not paths:
            self.problems.append(Problem(document.at((*where, "events")), f"no file matches {pattern!r}"))
            return
        window = [self._moment(entry.get(name), document, (*where, name)) for name in ("since", "until")]
        found = EventJobs()
        read_events(paths, found, window[0], window[1])
        for file, line, message in found.problems:
            self.problems.append(Problem(Position(file, line, 1), message))
        self.events_read += found.events
        self.events_skipped += found.skipped
        listings: dict[str, Document] = {}  # one per file: a job's position is ("jobs", n) in it
        for (job_type, job_id), (file, line) in found.jobs.items():
            listing = listings.setdefault(file, Document(file, {"jobs": []}))
            index = len(listing.value["jobs"])
            job = {"id": job_id, "type": job_type}
            listing.value["jobs"].append(job)
            listing.values[("jobs", index)] = pack(line, 1)
            self.jobs.append(
                RawJob(job, listing, ("jobs", index), True, *self._listed_provider(entry, document, where))
            )
        for path in paths:
            with contextlib.suppress(OSError):  # an unreadable file is reported where it was read
                self.sources.setdefault(str(path), SourceFile(str(path), file_sha256(path)))

    def _moment(self, value: Any, document: Document, path: Path_) -> datetime | None:
        """since/until: a UTC time, or a duration before now."""
        if value is None:
            return None
        moment = parse_utc(value)
        if moment is not None:
            return moment
        seconds = parse_duration(value)
        if seconds is not None:
            return self.now - timedelta(seconds=seconds)
        self.problems.append(
            Problem(
                document.at(path),
                f"{value!r} is neither a UTC time YYYY-MM-DDTHH:mm:ssZ nor a duration such as 24h",
            )
        )
        return None

    def csv(self, path: Path, where: Position, provider: tuple[str | None, Position | None]) -> None:
        text = self.read_text(path, where)
        if text is None:
            return
        document, problems = read_csv(text, str(path))
        self.problems.extend(problems)
        self.problems.extend(schema_problems(document))
        for index, job in enumerate(document.value["jobs"]):
            self.jobs.append(RawJob(job, document, ("jobs", index), False, *provider))

    @staticmethod
    def _listed_provider(
        entry: Mapping[str, Any], document: Document, where: Path_
    ) -> tuple[str | None, Position | None]:
        """The provider alias a jobs_from entry gives its jobs, and where it is written."""
        alias = entry.get("provider")
        if not isinstance(alias, str):
            return None, None
        return alias, document.at((*where, "provider"))


def _list(value: Any) -> list[Any]:
    """A list the schema expects; anything else (already reported by the schema check) reads as empty."""
    return value if isinstance(value, list) else []
