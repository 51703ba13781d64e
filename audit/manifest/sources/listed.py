"""Jobs listed in a manifest itself (`jobs:`), each at its own position."""

from __future__ import annotations

from audit.manifest.sources.base import Entry, Found, RawJob, Reading


class ListedSource:
    """The `jobs:` list of a manifest file: its entry is the whole file."""

    key = "jobs"
    options: frozenset[str] = frozenset()
    takes: type = list

    def read(self, entry: Entry, reader: Reading) -> Found:
        out = Found()
        jobs = entry.settings.get("jobs")
        for index, job in enumerate(jobs if isinstance(jobs, list) else []):
            if isinstance(job, dict):  # anything else is reported by the schema check
                out.jobs.append(RawJob(job, entry.document, ("jobs", index)))
        return out
