"""Discovery for a whole manifest: each media source asked through its provider's connection, then merged."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime

from audit.calls.connection import Connection
from audit.discover.expand import expand
from audit.discover.walk import Discovery, discover
from audit.manifest.model import Manifest
from audit.results.parts import DiscoveryRecord


def discover_all(
    manifest: Manifest,
    connections: Mapping[str | None, Connection],
    stop: threading.Event,
    now: datetime | None = None,
    unmanaged: str | None = None,
) -> tuple[Manifest, tuple[DiscoveryRecord, ...], list[Discovery]]:
    """The manifest with what its media sources found, their records, and the discoveries themselves;
    Incomplete (a UserError) when one could not cover its window. Without media sources: unchanged."""
    if not manifest.queries:
        return manifest, (), []
    if unmanaged is not None:  # --unmanaged: one policy for every media source
        queries = tuple(replace(query, unmanaged=unmanaged) for query in manifest.queries)
        manifest = replace(manifest, queries=queries)
    started = now or datetime.now(UTC)
    found = [discover(query, connections[query.provider], stop, started) for query in manifest.queries]
    expanded, records = expand(manifest, found)
    return expanded, records, found
