"""VOD event notifications as a job source: the jobs that completion events name, with FILE:LINE.

ApsaraVideo VOD sends the same JSON body by HTTP callback or as an MNS message when a job
completes; teams log those bodies one a line. The fields read here, per event type, and where the
VOD event notification reference states them:

- StreamTranscodeComplete: `JobId` (transcode)
  https://www.alibabacloud.com/help/en/vod/user-guide/streamtranscodecomplete
- TranscodeComplete: `StreamInfos[].JobId` (transcode)
  https://www.alibabacloud.com/help/en/vod/user-guide/transcodecomplete
- SnapshotComplete: `SnapshotInfos[].JobId` (snapshot)
  https://www.alibabacloud.com/help/en/vod/user-guide/snapshotcomplete
- AIMediaAuditComplete: `JobId` (ai)
  https://www.alibabacloud.com/help/en/vod/user-guide/aimediaauditcomplete
- WorkflowTaskComplete: `TaskId` (workflow)
  https://www.alibabacloud.com/help/en/vod/user-guide/workflow-task-completion

Every event carries `EventType` and `EventTime` (UTC; `yyyy-MM-ddTHH:mm:ssZ`, and for AI events
`yyyy-MM-ddTHH:mm:ss:SSSZ` with milliseconds). Other event types (uploads, …) are skipped and counted.
"""

from __future__ import annotations

import contextlib
import glob
import gzip
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, BinaryIO

from audit.common.files import MAX_INPUT, file_sha256, open_input
from audit.common.jobtypes import JobRef, unsafe_id
from audit.manifest.model import SourceFile
from audit.manifest.positions import Document, Position, Problem, pack
from audit.manifest.sources.base import Entry, Found, RawJob, Reading, moment

# EventType -> (job type, where the ids are: a top-level field, or a list and the field of its items)
EVENT_JOBS: dict[str, tuple[str, str, str | None]] = {
    "StreamTranscodeComplete": ("transcode", "JobId", None),
    "TranscodeComplete": ("transcode", "StreamInfos", "JobId"),
    "SnapshotComplete": ("snapshot", "SnapshotInfos", "JobId"),
    "AIMediaAuditComplete": ("ai", "JobId", None),
    "WorkflowTaskComplete": ("workflow", "TaskId", None),
}
_EVENT_TIME = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(?:[.:]\d{1,6})?Z")


class EventSource:
    """`jobs_from: - events: GLOB` (+ `since`, `until`): the jobs event notifications name, each at its
    FILE:LINE, with its type's defaults as expectation (a listed job of the same key wins)."""

    key = "events"
    options = frozenset({"since", "until"})
    takes: type = str

    def read(self, entry: Entry, reader: Reading) -> Found:
        out = Found()
        pattern = entry.settings["events"]
        out.volatile = True  # a glob: a new file may match it tomorrow
        # The pattern is the user's; the manifest's own folder is a path, whatever characters its name
        # holds (`night[1]/` must not read `night1/`).
        paths = sorted(Path(p) for p in glob.glob(str(Path(glob.escape(str(entry.base))) / pattern)))
        if not paths:
            out.problems.append(Problem(entry.at("events"), f"no file matches {pattern!r}"))
            return out
        since, until = (
            moment(entry.settings.get(name), entry.at(name), reader.now, out) for name in ("since", "until")
        )
        found = EventJobs()
        read_events(paths, found, since, until)
        for file, line, message in found.problems:
            out.problems.append(Problem(Position(file, line, 1), message))
        out.events_read += found.events
        out.events_skipped += found.skipped
        listings: dict[str, Document] = {}  # one per file: a job's position is ("jobs", n) in it
        for (job_type, job_id), (file, line) in found.jobs.items():
            listing = listings.setdefault(file, Document(file, {"jobs": []}))
            index = len(listing.value["jobs"])
            listing.value["jobs"].append({"id": job_id, "type": job_type})
            listing.values[("jobs", index)] = pack(line, 1)
            job = listing.value["jobs"][index]
            out.jobs.append(
                RawJob(job, listing, ("jobs", index), self.key, entry.provider, entry.provider_at)
            )
        for path in paths:
            with contextlib.suppress(OSError):  # an unreadable file is reported where it was read
                out.files.setdefault(str(path), SourceFile(str(path), file_sha256(path)))
        return out


@dataclass
class EventJobs:
    """What event files yielded: each job once, at the first line that named it."""

    jobs: dict[JobRef, tuple[str, int]] = field(default_factory=dict)  # job -> (file, line)
    problems: list[tuple[str, int, str]] = field(default_factory=list)  # (file, line, message)
    events: int = 0
    skipped: int = 0  # events of other types, or outside the time window


def event_time(value: Any) -> datetime | None:
    """An event's EventTime as an aware datetime, milliseconds dropped; None when it is not one."""
    match = _EVENT_TIME.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return datetime.fromisoformat(match[1]).replace(tzinfo=UTC)
    except ValueError:
        return None


# One event body is a few KiB; a line past this is no event, whatever it inflates to (read in bounded
# steps, never whole). A file in the one-array form is parsed whole, so it has a bound of its own:
# larger logs are written as JSON Lines, which are streamed.
MAX_LINE = 1 << 20
MAX_ARRAY = 64 << 20


class EventFileProblem(Exception):
    """What makes the rest of an event file unreadable, at its line."""

    def __init__(self, line: int, message: str) -> None:
        super().__init__(message)
        self.line = line


def read_events(
    paths: list[Path], found: EventJobs, since: datetime | None = None, until: datetime | None = None
) -> None:
    """Adds the jobs the events of `paths` name (each file: JSON Lines or one JSON array; .gz too)."""
    for path in paths:
        name = str(path)
        try:
            for line, text in _lines(path):
                _read(name, line, text, found, since, until)
        except EventFileProblem as problem:
            found.problems.append((name, problem.line, str(problem)))
        except (OSError, EOFError, gzip.BadGzipFile, UnicodeDecodeError) as exc:
            found.problems.append((name, 1, f"cannot read {name}: {getattr(exc, 'strerror', None) or exc}"))


def _lines(path: Path) -> Iterator[tuple[int, str]]:
    """(line number, text) of each non-blank line, streamed: a log of millions of lines is never held
    whole, nor a line longer than MAX_LINE. A file that is one JSON array gives each element at line 1."""
    with open_input(path) as raw:  # a regular file of bounded size, never a pipe or a device
        stream: gzip.GzipFile | BinaryIO = gzip.GzipFile(fileobj=raw) if path.suffix == ".gz" else raw
        read = number = 0
        while line := stream.readline(MAX_LINE + 1):
            number += 1
            read += len(line)
            if read > MAX_INPUT:  # a small .gz that inflates beyond what any log holds
                raise OSError(27, f"inflates beyond {MAX_INPUT >> 20} MiB")
            if number == 1 and line.removeprefix(b"\xef\xbb\xbf").lstrip().startswith(b"["):
                yield from _array(line, stream)
                return
            if len(line) > MAX_LINE:
                raise EventFileProblem(number, f"a line longer than {MAX_LINE >> 20} MiB: not an event body")
            text = line.decode("utf-8-sig" if number == 1 else "utf-8")
            if text.strip():
                yield number, text


def _array(start: bytes, stream: gzip.GzipFile | BinaryIO) -> Iterator[tuple[int, str]]:
    """Each element of a file that is one JSON array, at line 1."""
    rest = stream.read(MAX_ARRAY + 1 - len(start))
    if len(start) + len(rest) > MAX_ARRAY:
        raise EventFileProblem(
            1, f"one JSON array over {MAX_ARRAY >> 20} MiB: write the events as JSON Lines"
        )
    try:
        elements = json.loads((start + rest).decode("utf-8-sig"))
    except (ValueError, RecursionError) as exc:  # cut short, or nested deeper than any event
        raise EventFileProblem(1, f"not a JSON array of event bodies ({type(exc).__name__}: {exc})") from None
    if not isinstance(elements, list):
        raise EventFileProblem(1, "not a JSON array of event bodies")
    for element in elements:
        yield 1, json.dumps(element)


def _read(
    name: str, line: int, text: str, found: EventJobs, since: datetime | None, until: datetime | None
) -> None:
    try:
        event = json.loads(text)
    except (ValueError, RecursionError) as exc:
        found.problems.append((name, line, f"not a JSON event body ({exc})"))
        return
    found.events += 1
    kind = event.get("EventType") if isinstance(event, dict) else None
    source = EVENT_JOBS.get(kind) if isinstance(kind, str) else None
    if source is None:
        found.skipped += 1
        return
    if since is not None or until is not None:
        moment = event_time(event.get("EventTime"))
        if moment is None or (since is not None and moment < since) or (until is not None and moment > until):
            found.skipped += 1
            return
    job_type, key, item = source
    ids = job_ids(event, key, item)
    if not ids:
        where = f"{key}[].{item}" if item else key
        found.problems.append((name, line, f"an event of type {kind} without its job id ({where})"))
        return
    for job_id in ids:
        shown = unsafe_id(job_id)
        if shown is not None:
            # Anyone who knows the callback URL can post an event: an id that could forge a line of a
            # report is refused here, shown escaped.
            found.problems.append((name, line, f"a JobId with control characters or line breaks: {shown}"))
            continue
        found.jobs.setdefault(JobRef(job_type, job_id), (name, line))


def job_ids(event: dict[str, Any], key: str, item: str | None) -> list[str]:
    """The job ids an event names at `key` (a field, or a list and its items' `item`): all or none."""
    if item is None:
        value = event.get(key)
        return [value] if isinstance(value, str) and value else []
    entries = event.get(key)
    if not isinstance(entries, list):
        return []
    ids = [entry.get(item) for entry in entries if isinstance(entry, dict)]
    return [i for i in ids if isinstance(i, str) and i] if len(ids) == len(entries) and all(ids) else []
