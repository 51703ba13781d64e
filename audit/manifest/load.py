"""Loads manifests (includes, CSV job lists, variables, defaults) and reports every problem at once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from audit.manifest.build import Builder
from audit.manifest.model import Manifest
from audit.manifest.notify import channels
from audit.manifest.positions import Problem
from audit.manifest.reader import Reader


class ManifestInvalid(Exception):
    """The manifest has problems; `problems` lists each with its position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def load_manifests(
    paths: Iterable[str | os.PathLike[str]], env: Mapping[str, str] | None = None, now: datetime | None = None
) -> Manifest:
    """The merged manifest of `paths`; ManifestInvalid listing every problem when any is found.

    `now` is what event windows such as `since: 24h` count back from (default: the clock)."""
    reader = Reader(now)
    roots = [str(p) for p in paths]
    for root in roots:
        reader.manifest(Path(root))
    builder = Builder(reader, os.environ if env is None else env)
    jobs = builder.build()
    queries = builder.queries()
    waivers = builder.waivers(jobs)
    provider = builder.provider()
    providers = builder.providers()
    problems = reader.problems + builder.problems
    notify = channels(reader.notify, problems)
    if problems:
        raise ManifestInvalid(problems)
    return Manifest(
        tuple(roots),
        tuple(reader.sources.values()),
        provider,
        tuple(jobs),
        tuple(waivers),
        (reader.events_read, reader.events_skipped),
        providers,
        reader.names[0][0] if reader.names else None,
        tuple(notify),
        tuple(queries),
        builder.defaults,
    )
