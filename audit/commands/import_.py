"""`vod-audit import`: query listed (or discovered) jobs and print a manifest pinning their current values."""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.calls.connection import Connection, open_connection
from audit.commands.embedded import embedded
from audit.common.errors import ExitStatus, UserError
from audit.common.jobtypes import MEDIA_FIELDS, JobRef
from audit.common.terminal import Echo
from audit.discover.importer import import_jobs, read_ids
from audit.manifest.model import MediaQuery
from audit.manifest.positions import Position
from audit.manifest.sources.events import EventJobs, read_events
from audit.options import resolve


@dataclass(frozen=True)
class Asked:
    """Which jobs import is asked for: JobIds (--ids with --type), event files, or media."""

    job_type: str | None
    ids: str | None
    events: Sequence[str]
    media: Sequence[str] = ()
    media_file: str | None = None


def execute(asked: Asked, flags: Mapping[str, Any], *, echo: Echo, err: Echo) -> ExitStatus:
    media = (
        *asked.media,
        *(read_ids(asked.media_file, "--media-file", "media ids") if asked.media_file else ()),
    )
    if sum(map(bool, (asked.ids is not None, asked.events, media))) != 1:
        raise UserError("give either --ids FILE (with --type), --events FILE... or --media ID...")
    refs = [] if media else _jobs(asked.job_type, asked.ids, asked.events, err)
    options = resolve(flags, {})
    with embedded(options.emulator) as fixed, open_connection(options, fixed) as conn:
        refs = refs or _discovered(asked.job_type, media, conn)
        client = conn.client()
        try:
            source = "the embedded emulator" if conn.emulator_url else conn.endpoint.url
            text, code = import_jobs(refs, conn.fetcher(client), conn.concurrency, source, err)
        finally:
            client.close()
    echo(text.rstrip("\n"))
    return code


def _discovered(job_type: str | None, media: Sequence[str], conn: Connection) -> list[JobRef]:
    """The jobs ListJobInfo lists for these media (of --type, else of every listed type)."""
    from audit.discover.walk import discover

    query = MediaQuery(
        Position("--media", 1, 1),
        None,
        None,
        (job_type,) if job_type else tuple(MEDIA_FIELDS),
        media_ids=tuple(dict.fromkeys(media)),
    )
    found = discover(query, conn, threading.Event(), datetime.now(UTC))
    if not found.jobs:
        raise UserError(f"the service lists no job of {len(query.media_ids)} media")
    return list(found.jobs)


def _jobs(job_type: str | None, ids_source: str | None, events: Sequence[str], err: Echo) -> list[JobRef]:
    """The jobs to query: --ids with --type, or those the --events files name (of --type, if given)."""
    if (ids_source is None) == (not events):
        raise UserError("give either --ids FILE (with --type), --events FILE... or --media ID...")
    if ids_source is not None:
        if job_type is None:
            raise UserError("--ids needs --type: a JobId alone does not say which kind of job it is")
        return [JobRef(job_type, job_id) for job_id in read_ids(ids_source)]
    found = EventJobs()
    read_events([Path(name) for name in events], found)
    for file, line, message in found.problems:
        err(f"{file}:{line}:1: {message}")
    if found.problems:
        count = len(found.problems)
        raise UserError(f"{count} problem{'s' if count != 1 else ''} in the event files; nothing was queried")
    refs = [JobRef(t, i) for t, i in found.jobs if job_type in (None, t)]
    if not refs:
        raise UserError("the event files name no job" + (f" of type {job_type}" if job_type else ""))
    return refs
