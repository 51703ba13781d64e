"""Job sources: each kind of job list a manifest names, one small plug-in behind one interface (base.JobSource)."""

from __future__ import annotations

from audit.manifest.sources.base import JobSource
from audit.manifest.sources.csvlist import CsvSource
from audit.manifest.sources.events import EventSource
from audit.manifest.sources.listed import ListedSource
from audit.manifest.sources.media import MediaSource

LISTED = ListedSource()  # the manifest's own `jobs:`
# The kinds of `jobs_from:` entry, by the key that names each.
SOURCES: dict[str, JobSource] = {source.key: source for source in (CsvSource(), EventSource(), MediaSource())}
