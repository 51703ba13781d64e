"""The emulated media library: SearchMedia and ListJobInfo answered from the jobs the emulator serves."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.emulator.data import StoredJob
from audit.jobtypes import job_type
from audit.timeutil import format_utc, parse_utc
from audit.vod.protocol import PAGE_SIZE, PAGED_RESULTS, SCROLLED_RESULTS

# The job types ListJobInfo lists ("transcoding tasks, snapshot tasks, and AI tasks", ListJobInfo
# reference), and the detail field naming each one's media (GetJobDetail reference).
LISTED_TYPES = {"transcode": "VideoId", "snapshot": "VideoId", "ai": "MediaId"}


@dataclass(frozen=True)
class Media:
    """One media asset as SearchMedia describes it."""

    media_id: str
    creation_time: datetime
    status: str  # the video's Status: Normal, or TranscodeFail/Transcoding after its latest transcode
    jobs: tuple[StoredJob, ...]

    def entry(self) -> dict[str, Any]:
        """Its MediaList item: MediaId, CreationTime, MediaType and the Video object (SearchMedia reference)."""
        created = format_utc(self.creation_time)
        return {
            "MediaId": self.media_id,
            "CreationTime": created,
            "MediaType": "video",
            "Video": {
                "VideoId": self.media_id,
                "Status": self.status,
                "CreationTime": created,
                "StorageLocation": "outin-emulator.oss-cn-shanghai.aliyuncs.com",
                "CateId": 0,
                "Title": f"media {self.media_id}",
            },
        }


def media_of(jobs: Mapping[tuple[str, str], StoredJob]) -> dict[str, Media]:
    """Media by id, derived from the jobs: each job's VideoId or MediaId; a media's creation time is its
    earliest job's CreateTime; its status follows its latest transcode job."""
    grouped: dict[str, list[StoredJob]] = {}
    for (name, _), job in jobs.items():
        field = LISTED_TYPES.get(name)
        detail = job_type(name).detail(job.body) if field else None
        media_id = detail.get(field) if detail is not None and field else None
        if isinstance(media_id, str) and media_id and job.create_time is not None:
            grouped.setdefault(media_id, []).append(job)
    media = {}
    for media_id, members in grouped.items():
        members.sort(key=lambda j: (j.create_time or datetime.min.replace(tzinfo=UTC), j.job_id))
        first = members[0].create_time
        assert first is not None  # only jobs with a CreateTime were grouped
        media[media_id] = Media(media_id, first, _status(members), tuple(members))
    return media


def _status(jobs: list[StoredJob]) -> str:
    transcodes = [j for j in jobs if j.job_type == "transcode"]
    if not transcodes:
        return "Normal"
    detail = job_type("transcode").detail(transcodes[-1].body) or {}
    status = detail.get("Status")
    return {"TranscodeFail": "TranscodeFail", "Transcoding": "Transcoding"}.get(str(status), "Normal")


class SearchError(ValueError):
    """A SearchMedia request the service would refuse: (code, message)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


# The search protocol's clauses we serve: `Field = 'v'`, `Field in ('a','b')` and the range
# `Field = ('from','to')` joined by `and` ("Protocol for media asset search",
# https://www.alibabacloud.com/help/en/vod/developer-reference/protocol-for-media-asset-search).
_CLAUSE = re.compile(r"\s*(\w+)\s*(=|in)\s*(\([^)]*\)|'[^']*'|\S+)\s*", re.IGNORECASE)
_VALUE = re.compile(r"'([^']*)'|([^,\s]+)")


def _clauses(match: str) -> list[tuple[str, str, list[str]]]:
    parts = re.split(r"\s+and\s+", match.strip(), flags=re.IGNORECASE) if match.strip() else []
    parsed = []
    for part in parts:
        found = _CLAUSE.fullmatch(part)
        if not found:
            raise SearchError("InvalidParameter", f"The specified parameter Match is not valid. ({part})")
        name, op, raw = found.groups()
        values = (
            [a or b for a, b in _VALUE.findall(raw.strip("()"))] if raw.startswith("(") else [raw.strip("'")]
        )
        parsed.append((name, "range" if op == "=" and raw.startswith("(") else op.lower(), values))
    return parsed


def _matches(media: Media, clauses: list[tuple[str, str, list[str]]]) -> bool:
    fields = {"VideoId": media.media_id, "MediaId": media.media_id, "Status": media.status}
    for name, op, values in clauses:
        if name == "CreationTime" and op == "range":
            low, high = (parse_utc(v) if v else None for v in [*values, "", ""][:2])
            if (low and media.creation_time < low) or (high and media.creation_time > high):
                return False
        elif name in fields:
            if fields[name] not in values:
                return False
        # Other fields (CateId, StorageLocation, Tags, Title) hold one value for every emulated media.
        elif name == "CateId" and values != ["0"]:
            return False
    return True


class Library:
    """SearchMedia (paging to 5,000, scrolling past it) and ListJobInfo over the emulated media."""

    def __init__(
        self, jobs: Mapping[tuple[str, str], StoredJob], max_age_days: float, paged: int = PAGED_RESULTS
    ) -> None:
        self.media = media_of(jobs)
        self._ordered = sorted(self.media.values(), key=lambda m: (m.creation_time, m.media_id))
        self._max_age = timedelta(days=max_age_days)
        self._paged = paged

    def search(self, params: Mapping[str, str], request_id: str) -> dict[str, Any]:
        """SearchMedia's body; SearchError for what the service refuses."""
        kind = params.get("SearchType", "video")
        if kind not in ("video", "audio", "image", "attached"):
            raise SearchError(
                "InvalidParameter", f"The specified parameter SearchType is not valid. ({kind})"
            )
        page_no, page_size = _number(params, "PageNo", 1), _number(params, "PageSize", 10)
        if not 1 <= page_size <= PAGE_SIZE or page_no < 1:
            raise SearchError("InvalidParameter", "The specified parameter PageNo or PageSize is not valid.")
        match = params.get("Match", "")
        found = [m for m in self._ordered if _matches(m, _clauses(match))] if kind == "video" else []
        order = params.get("SortBy", "CreationTime:Desc")
        if order == "CreationTime:Desc":
            found.reverse()
        traversal = f"{kind}\0{order}\0{match}"  # what a token is bound to: another search cannot use it
        start = (page_no - 1) * page_size
        token = params.get("ScrollToken")
        if token:
            if token not in (_token(traversal, page_no - 1), _token(traversal, page_no)):
                raise SearchError("InvalidParameter", "The specified parameter ScrollToken is not valid.")
            if start + page_size > SCROLLED_RESULTS:
                found = []
        elif start + page_size > self._paged:
            raise SearchError(
                "InvalidParameter",
                f"PageNo * PageSize may not exceed {self._paged}; traverse with ScrollToken to go further.",
            )
        window = found[start : start + page_size]
        return {
            "RequestId": request_id,
            "Total": len(found),
            "ScrollToken": _token(traversal, page_no),
            "MediaList": [m.entry() for m in window],
        }

    def list_jobs(self, params: Mapping[str, str], request_id: str, now: datetime) -> dict[str, Any]:
        """ListJobInfo's body: the media's jobs of one type from the last six months."""
        media_id, kind = params.get("MediaId", ""), params.get("JobType", "")
        media = self.media.get(media_id)
        jobs = [
            j
            for j in (media.jobs if media else ())
            if j.job_type == kind and j.create_time is not None and now - j.create_time <= self._max_age
        ]
        listed = []
        for job in jobs:
            detail = job_type(kind).detail(job.body) or {}
            item: dict[str, Any] = {"JobId": job.job_id, "Status": detail.get("Status")}
            for field in ("UserId", "CreateTime", "CompleteTime"):
                if field in detail:
                    item[field] = detail[field]
            listed.append(item)
        return {"RequestId": request_id, "MediaId": media_id, "JobType": kind, "JobInfoList": listed}


def _number(params: Mapping[str, str], name: str, default: int) -> int:
    value = params.get(name)
    if value is None or value == "":
        return default
    try:
        return int(value)
    except ValueError:
        raise SearchError("InvalidParameter", f"The specified parameter {name} is not valid.") from None


def _token(traversal: str, page: int) -> str:
    """An opaque token naming the traversal (type, order, Match) and the page it reached."""
    return hashlib.sha256(f"{traversal}\0{page}".encode()).hexdigest()[:32]
