"""`vod-audit import`: query listed jobs and print a manifest pinning their current values."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from audit.options import resolve
from audit.run.connection import open_connection
from audit.run.importer import import_jobs, read_ids

Echo = Callable[[str], None]


def execute(job_type: str, ids_source: str, flags: Mapping[str, Any], *, echo: Echo, err: Echo) -> int:
    ids = read_ids(ids_source)
    with open_connection(resolve(flags, {})) as conn:
        client = conn.client()
        try:
            source = "the embedded emulator" if conn.emulator_url else conn.endpoint.url
            text, code = import_jobs(job_type, ids, conn.fetcher(client), conn.concurrency, source, err)
        finally:
            client.close()
    echo(text.rstrip("\n"))
    return code
