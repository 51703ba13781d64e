"""Phase one of loading: reads every file of an include tree, collecting settings and raw jobs."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.common.files import read_input
from audit.common.jobtypes import NAMES
from audit.manifest.model import MediaQuery, SourceFile
from audit.manifest.positions import Document, Path_, Position, Problem, parse_yaml
from audit.manifest.schema_check import schema_problems
from audit.manifest.sources import LISTED, SOURCES
from audit.manifest.sources.base import Entry, Found, RawJob


@dataclass(frozen=True, slots=True)
class Setting:
    """A value as written, with where: variables, defaults and provider settings before interpolation."""

    value: Any
    document: Document
    path: Path_


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
        self.queries: list[MediaQuery] = []  # `jobs_from: - media:`, asked of the service before a run
        # Set when what it read depends on more than its files: the clock (`since: 24h`) or a glob
        # (event files): such a manifest is never taken from a cache.
        self.volatile = False
        self.waivers: list[RawJob] = []  # waiver entries as written, with where
        self.names: list[tuple[str, Position]] = []  # `name:` of each top-level manifest that gives one
        self.allow_empty = False  # a top-level manifest says `allow_empty: true`
        # `notify:` entries as written, with where and the folder their files are relative to
        self.notify: list[tuple[Mapping[str, Any], Document, Path_, Path]] = []
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
        base = path.parent
        self._collect(document, value, base, is_root=not stack)
        for index, name in enumerate(_list(value.get("include"))):
            if isinstance(name, str) and name:
                self.manifest(base / name, (*stack, resolved), document.at(("include", index)))
        for index, settings in enumerate(_list(value.get("jobs_from"))):
            if isinstance(settings, dict):
                self._job_list(
                    Entry(
                        settings, document, ("jobs_from", index), base, *_provider(settings, document, index)
                    )
                )

    def _job_list(self, entry: Entry) -> None:
        """One `jobs_from:` entry, read by the job source its key names."""
        kinds = [SOURCES[key] for key in entry.settings if key in SOURCES]
        if len(kinds) != 1:
            names = " or ".join(
                f"{key}: {'FILE' if kind.takes is str else '{...}'}" for key, kind in SOURCES.items()
            )
            self.problems.append(Problem(entry.at(), f"a job list is either {names}"))
            return
        source = kinds[0]
        for key in entry.settings:
            owners = [other.key for other in SOURCES.values() if key in other.options and other is not source]
            if owners and key not in source.options:
                self.problems.append(Problem(entry.at(), f"{key} applies to {owners[0]}: only"))
                return
        value = entry.settings[source.key]
        if isinstance(value, source.takes) and value:  # anything else is reported by the schema check
            self._add(source.read(entry, self))

    def _add(self, found: Found) -> None:
        self.jobs += found.jobs
        self.problems += found.problems
        self.queries += found.queries
        for path, file in found.files.items():
            self.sources.setdefault(path, file)
        self.events_read += found.events_read
        self.events_skipped += found.events_skipped
        self.volatile = self.volatile or found.volatile

    def _collect(self, document: Document, value: Mapping[str, Any], base: Path, *, is_root: bool) -> None:
        if value.get("allow_empty") is True:
            if is_root:
                self.allow_empty = True
            else:
                self.problems.append(
                    Problem(
                        document.at(("allow_empty",), key=True),
                        "allow_empty: is only allowed in a top-level manifest",
                    )
                )
        name = value.get("name")
        if isinstance(name, str):
            if not is_root:
                self.problems.append(
                    Problem(document.at(("name",), key=True), "name: is only allowed in a top-level manifest")
                )
            elif self.names and self.names[0][0] != name:
                self.problems.append(
                    Problem(
                        document.at(("name",)),
                        f"name {name!r} differs from {self.names[0][0]!r} given at {self.names[0][1]}: "
                        "manifests audited together are one audit",
                    )
                )
            else:
                self.names.append((name, document.at(("name",))))
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
        self._add(LISTED.read(Entry(value, document, (), base), self))
        channels = _list(value.get("notify"))
        if channels and not is_root:
            self.problems.append(
                Problem(document.at(("notify",), key=True), "notify: is only allowed in a top-level manifest")
            )
        for index, channel in enumerate(channels if is_root else []):
            if isinstance(channel, dict):
                self.notify.append((channel, document, ("notify", index), base))
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


def _provider(
    settings: Mapping[str, Any], document: Document, index: int
) -> tuple[str | None, Position | None]:
    """The provider alias a jobs_from entry gives its jobs, and where it is written."""
    alias = settings.get("provider")
    if not isinstance(alias, str):
        return None, None
    return alias, document.at(("jobs_from", index, "provider"))


def _list(value: Any) -> list[Any]:
    """A list the schema expects; anything else (already reported by the schema check) reads as empty."""
    return value if isinstance(value, list) else []
