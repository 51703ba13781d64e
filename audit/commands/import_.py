"""`vod-audit import`: query listed jobs and print a manifest pinning their current values."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from audit.commands.embedded import embedded
from audit.errors import ExitStatus, UserError
from audit.jobtypes import JobRef
from audit.manifest.sources.events import EventJobs, read_events
from audit.options import resolve
from audit.run.connection import open_connection
from audit.run.importer import import_jobs, read_ids
from audit.terminal import Echo


def execute(
    job_type: str | None,
    ids_source: str | None,
    events: Sequence[str],
    flags: Mapping[str, Any],
    *,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    refs = _jobs(job_type, ids_source, events, err)
    options = resolve(flags, {})
    with embedded(options.emulator) as fixed, open_connection(options, fixed) as conn:
        client = conn.client()
        try:
            source = "the embedded emulator" if conn.emulator_url else conn.endpoint.url
            text, code = import_jobs(refs, conn.fetcher(client), conn.concurrency, source, err)
        finally:
            client.close()
    echo(text.rstrip("\n"))
    return code


def _jobs(job_type: str | None, ids_source: str | None, events: Sequence[str], err: Echo) -> list[JobRef]:
    """The jobs to query: --ids with --type, or those the --events files name (of --type, if given)."""
    if (ids_source is None) == (not events):
        raise UserError("give either --ids FILE (with --type) or --events FILE...")
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
