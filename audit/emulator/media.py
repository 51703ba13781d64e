"""The emulated media library: SearchMedia and ListJobInfo answered from the jobs the emulator serves."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from audit.common.jobtypes import MEDIA_FIELDS, job_type
from audit.common.timeutil import format_utc, parse_utc
from audit.emulator.data import StoredJob
from audit.vod.protocol import PAGE_SIZE, PAGED_RESULTS, SCROLLED_RESULTS

STORED_AT = "outin-emulator.oss-cn-shanghai.aliyuncs.com"  # every derived media's StorageLocation


@dataclass(frozen=True)
class Media:
    """One media asset as SearchMedia describes it."""

    media_id: str
    creation_time: datetime
    status: str  # the video's Status: Normal, or TranscodeFail/Transcoding after its latest transcode
    jobs: tuple[StoredJob, ...]
    media_type: str = "video"  # video or audio: its MediaList item carries a Video or an Audio object
    cate_id: int = 0
    storage_location: str = STORED_AT
    tags: tuple[str, ...] = ()
    title: str = ""
    duration: float | None = None  # the source file's seconds; None: derived from the id (playback.py)
    play_infos: tuple[dict[str, Any], ...] | None = None  # its own streams; None: one per transcode

    def entry(self) -> dict[str, Any]:
        """Its MediaList item: MediaId, CreationTime, MediaType and the Video (or Audio) object
        (SearchMedia reference)."""
        created = format_utc(self.creation_time)
        kind = "Audio" if self.media_type == "audio" else "Video"
        detail: dict[str, Any] = {
            f"{kind}Id": self.media_id,
            "Status": self.status,
            "CreationTime": created,
            "StorageLocation": self.storage_location,
            "CateId": self.cate_id,
            "Title": self.title or f"media {self.media_id}",
        }
        if self.tags:
            detail["Tags"] = ",".join(self.tags)
        return {"MediaId": self.media_id, "CreationTime": created, "MediaType": self.media_type, kind: detail}

    def value(self, name: str) -> list[str]:
        """Its values of a search field, as text (Tags: each tag)."""
        found = {
            "VideoId": [self.media_id],
            "MediaId": [self.media_id],
            "Status": [self.status],
            "CateId": [str(self.cate_id)],
            "StorageLocation": [self.storage_location],
            "Tags": list(self.tags),
            "Title": [self.title],
        }
        return found.get(name, [])


def media_of(jobs: Mapping[tuple[str, str], StoredJob]) -> dict[str, Media]:
    """Media by id, derived from the jobs: each job's VideoId or MediaId; a media's creation time is its
    earliest job's CreateTime; its status follows its latest transcode job."""
    grouped: dict[str, list[StoredJob]] = {}
    for (name, _), job in jobs.items():
        field = MEDIA_FIELDS.get(name)
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
    for name, op, values in clauses:
        if name == "CreationTime" and op == "range":
            low, high = (parse_utc(v) if v else None for v in [*values, "", ""][:2])
            if (low and media.creation_time < low) or (high and media.creation_time > high):
                return False
        elif not set(media.value(name)) & set(values):
            return False
    return True


def overlay(media: dict[str, Media], entries: Sequence[Mapping[str, Any]]) -> dict[str, Media]:
    """The derived media with a data file's own `media:` entries laid over them (a media without
    jobs too): each given field wins."""
    laid = dict(media)
    for entry in entries:
        media_id = str(entry["MediaId"])
        base = laid.get(media_id)
        created = parse_utc(entry.get("CreationTime")) or (base.creation_time if base else None)
        tags = entry.get("Tags")
        laid[media_id] = Media(
            media_id,
            created or datetime.now(UTC).replace(microsecond=0),
            str(entry.get("Status", base.status if base else "Normal")),
            base.jobs if base else (),
            str(entry.get("MediaType", "video")),
            int(entry.get("CateId", 0)),
            str(entry.get("StorageLocation", STORED_AT)),
            tuple(tags) if isinstance(tags, list) else tuple(t for t in str(tags or "").split(",") if t),
            str(entry.get("Title", "")),
            float(entry["Duration"]) if "Duration" in entry else (base.duration if base else None),
            tuple(entry["PlayInfos"]) if "PlayInfos" in entry else (base.play_infos if base else None),
        )
    return laid


class Library:
    """SearchMedia (paging to 5,000, scrolling past it) and ListJobInfo over the emulated media."""

    def __init__(
        self,
        jobs: Mapping[tuple[str, str], StoredJob],
        max_age_days: float,
        paged: int = PAGED_RESULTS,
        entries: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.media = overlay(media_of(jobs), entries)
        self._ordered = sorted(self.media.values(), key=lambda m: (m.creation_time, m.media_id))
        self._max_age_days = max_age_days
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
        clauses = _clauses(match)
        found = [m for m in self._ordered if m.media_type == kind and _matches(m, clauses)]
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
            if j.job_type == kind and j.visible(now, self._max_age_days)
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
