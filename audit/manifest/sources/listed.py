"""Jobs listed in a manifest itself (`jobs:`), each at its own position."""

from __future__ import annotations

from typing import TYPE_CHECKING

from audit.manifest.sources.base import Entry, RawJob

if TYPE_CHECKING:
    from audit.manifest.reader import Reader


class ListedSource:
    """The `jobs:` list of a manifest file: its entry is the whole file."""

    key = "jobs"
    options: frozenset[str] = frozenset()
    takes: type = list

    def read(self, entry: Entry, reader: Reader) -> None:
        jobs = entry.settings.get("jobs")
        for index, job in enumerate(jobs if isinstance(jobs, list) else []):
            if isinstance(job, dict):  # anything else is reported by the schema check
                reader.jobs.append(RawJob(job, entry.document, ("jobs", index)))
