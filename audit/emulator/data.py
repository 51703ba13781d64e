"""Emulator data files: GetJobDetail bodies as returned, checked at load, keyed by type and id; media of their own."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from audit.common.errors import UserError
from audit.common.files import read_input
from audit.common.jobtypes import catalogue
from audit.common.timeutil import format_utc, parse_utc

TIME_FIELDS = ("CreateTime", "CompleteTime", "FinishTime", "ModifiedTime")


@dataclass(frozen=True)
class StoredJob:
    job_type: str
    job_id: str
    body: dict[str, Any]  # the response without RequestId
    create_time: datetime | None

    def visible(self, now: datetime, max_age_days: float) -> bool:
        """Whether the API still sees it: GetJobDetail and ListJobInfo see the last six months."""
        return self.create_time is None or now - self.create_time <= timedelta(days=max_age_days)


def job_identity(entry: Any) -> tuple[str, str]:
    """(JobType, id) of a body, or ValueError saying what is wrong with it."""
    if not isinstance(entry, dict):
        raise ValueError(f"expected a GetJobDetail body (a mapping), got {type(entry).__name__}")
    types = catalogue()
    name = entry.get("JobType")
    if name not in types:
        raise ValueError(f"JobType must be one of {', '.join(types)}, got {name!r}")
    kind = types[name]
    detail = kind.detail(entry)
    if detail is None:
        raise ValueError(f"no {kind.detail_object} object for JobType {name}")
    job_id = detail.get(kind.id_field)
    if not isinstance(job_id, str) or not job_id:
        raise ValueError(f"{kind.detail_object}.{kind.id_field} is missing or not a string")
    return name, job_id


def _shift(value: Any, delta: Any) -> Any:
    moment = parse_utc(value)
    return format_utc(moment + delta) if moment else value


def rebase(entry: dict[str, Any], delta: Any) -> dict[str, Any]:
    """The body with every well-formed time moved by `delta` (malformed ones stay as planted)."""
    shifted = copy.deepcopy(entry)
    for kind in catalogue().values():
        detail = shifted.get(kind.detail_object)
        if isinstance(detail, dict):
            for field in TIME_FIELDS:
                if field in detail:
                    detail[field] = _shift(detail[field], delta)
            workflow = detail.get("Workflow")
            if isinstance(workflow, dict):
                for field in TIME_FIELDS:
                    if field in workflow:
                        workflow[field] = _shift(workflow[field], delta)
    return shifted


def _delta(anchor: Any, source: str, now: datetime | None) -> timedelta | None:
    """How far `time_anchor` moves every time to make it now (None without one); UserError if malformed."""
    if anchor is None:
        return None
    moment = parse_utc(anchor)
    if moment is None:
        raise UserError(f"{source}: time_anchor {anchor!r} is not a YYYY-MM-DDTHH:mm:ssZ time")
    return (now or datetime.now(UTC)) - moment


def index(
    entries: list[Any], source: str, now: datetime | None = None, anchor: Any = None
) -> dict[tuple[str, str], StoredJob]:
    """Jobs keyed by (type, id); UserError `source: entry N: ...` for the first bad entry."""
    delta = _delta(anchor, source, now)
    jobs: dict[tuple[str, str], StoredJob] = {}
    for number, entry in enumerate(entries, start=1):
        try:
            key = job_identity(entry)
        except ValueError as exc:
            raise UserError(f"{source}: entry {number}: {exc}") from None
        if key in jobs:
            raise UserError(f"{source}: entry {number}: duplicate job {key[0]} {key[1]}")
        body = rebase(entry, delta) if delta is not None else {k: v for k, v in entry.items()}
        body.pop("RequestId", None)
        detail = body[catalogue()[key[0]].detail_object]
        jobs[key] = StoredJob(key[0], key[1], body, parse_utc(detail.get("CreateTime")))
    return jobs


@dataclass(frozen=True)
class Data:
    """A data file's jobs, and the media entries it gives of its own (SearchMedia's fields)."""

    jobs: dict[tuple[str, str], StoredJob]
    media: tuple[dict[str, Any], ...] = ()


MEDIA_FIELDS = {
    "MediaId",
    "CreationTime",
    "Status",
    "CateId",
    "StorageLocation",
    "Tags",
    "Title",
    "MediaType",
    "Duration",  # the source file's duration in seconds (GetMezzanineInfo), default derived from its id
    "PlayInfos",  # its streams as GetPlayInfo lists them, in place of one per successful transcode job
}


def media_entries(entries: Any, source: str, delta: timedelta | None = None) -> tuple[dict[str, Any], ...]:
    """`media:` entries checked (a MediaId, a UTC CreationTime, known fields); UserError for the first bad one."""
    if entries is None:
        return ()
    if not isinstance(entries, list):
        raise UserError(f"{source}: media: must be a list of media entries")
    checked = []
    for number, entry in enumerate(entries, start=1):
        where = f"{source}: media entry {number}"
        if not isinstance(entry, dict) or not isinstance(entry.get("MediaId"), str) or not entry["MediaId"]:
            raise UserError(f"{where}: a mapping with a MediaId is expected")
        unknown = sorted(set(entry) - MEDIA_FIELDS)
        if unknown:
            raise UserError(
                f"{where}: unknown field {unknown[0]!r} (known: {', '.join(sorted(MEDIA_FIELDS))})"
            )
        duration = entry.get("Duration")
        if duration is not None and (
            isinstance(duration, bool) or not isinstance(duration, int | float) or duration < 0
        ):
            raise UserError(f"{where}: Duration must be a number of seconds, got {duration!r}")
        streams = entry.get("PlayInfos")
        if streams is not None and not (
            isinstance(streams, list) and all(isinstance(s, dict) for s in streams)
        ):
            raise UserError(
                f"{where}: PlayInfos must be a list of streams (mappings of GetPlayInfo's fields)"
            )
        if "CreationTime" in entry and parse_utc(entry["CreationTime"]) is None:
            raise UserError(
                f"{where}: CreationTime {entry['CreationTime']!r} is not a YYYY-MM-DDTHH:mm:ssZ time"
            )
        shifted = dict(entry)
        if delta is not None and "CreationTime" in shifted:
            shifted["CreationTime"] = _shift(shifted["CreationTime"], delta)
        checked.append(shifted)
    return tuple(checked)


def load_data_file(path: str | Path, now: datetime | None = None) -> dict[tuple[str, str], StoredJob]:
    """The jobs of a data file (see read_data_file)."""
    return read_data_file(path, now).jobs


def read_data_file(path: str | Path, now: datetime | None = None) -> Data:
    """Reads a YAML or JSON data file (`jobs:` list, optional `media:` list and `time_anchor:`)."""
    import yaml

    source = str(path)
    try:
        text = read_input(path).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    try:
        document = json.loads(text) if source.endswith(".json") else yaml.safe_load(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark else source
        raise UserError(f"{where}: not valid YAML: {getattr(exc, 'problem', None) or exc}") from None
    if document is None:
        document = {"jobs": []}
    if not isinstance(document, dict) or not isinstance(document.get("jobs"), list):
        raise UserError(f"{source}: expected a mapping with a `jobs:` list")
    anchor, now = document.get("time_anchor"), now or datetime.now(UTC)  # one now for jobs and media
    jobs = index(document["jobs"], source, now, anchor)
    return Data(jobs, media_entries(document.get("media"), source, _delta(anchor, source, now)))
