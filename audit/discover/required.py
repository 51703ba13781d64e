"""The media a source's `require:` judges: each media of its window with the jobs the service listed for it."""

from __future__ import annotations

from collections.abc import Sequence

from audit.common.jobtypes import JobRef
from audit.discover.walk import Discovery
from audit.manifest.model import RequiredMedia


def required_media(found: Sequence[Discovery]) -> tuple[RequiredMedia, ...]:
    """Every media a source with `require:` found, with its listed jobs (none: it lacks them all)."""
    required = []
    for discovery in found:
        query = discovery.query
        if not query.require:
            continue
        listed: dict[str, list[JobRef]] = {}
        for ref, job in discovery.jobs.items():
            listed.setdefault(job.media_id, []).append(ref)
        required += [
            RequiredMedia(media, query.position, query.provider, query.require, tuple(listed.get(media, ())))
            for media in discovery.media
        ]
    return tuple(required)
