"""Loads manifests (includes, CSV job lists, variables, defaults) and reports every problem at once."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from datetime import datetime
from pathlib import Path

from audit.manifest import cache
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
    paths: Iterable[str | os.PathLike[str]],
    env: Mapping[str, str] | None = None,
    now: datetime | None = None,
    *,
    cached: bool = False,
) -> Manifest:
    """The merged manifest of `paths`; ManifestInvalid listing every problem when any is found.

    `now` is what event windows such as `since: 24h` count back from (default: the clock). With
    `cached`, a manifest built from exactly the same files, code and referenced variables is taken
    from its cache beside the first manifest, and a fresh one that may be cached is kept there."""
    roots = tuple(str(p) for p in paths)
    env = os.environ if env is None else env
    where = cache.location(roots) if cached and roots else None
    if where is not None:
        found = cache.read(where, roots, env)
        if found is not None:
            return found
    manifest, reader, builder = _load(roots, env, now)
    if where is not None and not reader.volatile and not manifest.queries:
        cache.write(where, manifest, builder.env_used)
    return manifest


def _load(
    roots: tuple[str, ...], env: Mapping[str, str], now: datetime | None
) -> tuple[Manifest, Reader, Builder]:
    reader = Reader(now)
    for root in roots:
        reader.manifest(Path(root))
    builder = Builder(reader, env)
    jobs = builder.build()
    queries = builder.queries()
    waivers = builder.waivers(jobs)
    provider = builder.provider()
    providers = builder.providers()
    problems = reader.problems + builder.problems
    notify = channels(reader.notify, problems)
    if problems:
        raise ManifestInvalid(problems)
    manifest = Manifest(
        roots,
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
        reader.allow_empty,
        frozenset(builder.evented),
    )
    return manifest, reader, builder
