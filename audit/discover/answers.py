"""The two listing answers read and checked against their schemas: SearchMedia's media, ListJobInfo's jobs."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

from audit.common.jobtypes import JobRef, unsafe_id
from audit.common.schemafiles import all_schemas
from audit.schema.validate import to_pointer

SEARCH_SCHEMA = "urn:vod-audit:search-media"
LIST_SCHEMA = "urn:vod-audit:list-job-info"


class Malformed(ValueError):
    """An answer discovery cannot go on from: what it needed is missing or of another shape."""


@dataclass(frozen=True, slots=True)
class Page:
    """One SearchMedia page: the media ids on it, how many match in all, and the token to go on."""

    media: tuple[str, ...]
    total: int
    token: str | None


@dataclass(frozen=True, slots=True)
class Listed:
    """A job ListJobInfo listed: which, and for which media (the rest is GetJobDetail's to say)."""

    ref: JobRef
    media_id: str
    status: str | None = None  # its Status as listed (the plan's guess of tonight's answer)


@cache
def _validator(schema_id: str) -> Any:
    from jsonschema import Draft202012Validator
    from referencing import Registry, Resource

    schemas = all_schemas()
    registry: Registry[Any] = Registry().with_resources(
        (name, Resource.from_contents(document)) for name, document in schemas.items()
    )
    return Draft202012Validator(schemas[schema_id], registry=registry)


def departures(body: Any, schema_id: str) -> list[str]:
    """Where the body departs from the schema, each `pointer: message` (every rule there is the
    reference's: the schema file records it)."""
    found = sorted(_validator(schema_id).iter_errors(body), key=lambda e: list(e.absolute_path))
    return [f"{to_pointer(e.absolute_path) or '/'}: {_said(e)}" for e in found]


def _said(error: Any) -> str:
    """The schema's own words for a rule where it has them (`x-message`), else the validator's."""
    words = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    return f"{error.instance!r} {words}"[:200] if words else str(error.message)[:200]


def page_of(body: Mapping[str, Any]) -> tuple[Page, list[str]]:
    """The page and the notes on it; Malformed when it holds no list of media ids or no Total."""
    notes = departures(body, SEARCH_SCHEMA)
    items = body.get("MediaList", [])
    total = body.get("Total")
    if not isinstance(items, list):
        raise Malformed(f"MediaList is {type(items).__name__}, not a list")
    if isinstance(total, bool) or not isinstance(total, int):
        raise Malformed("no Total: how many media match cannot be known")
    ids = []
    for index, item in enumerate(items):
        media_id = item.get("MediaId") if isinstance(item, dict) else None
        if not isinstance(media_id, str) or not media_id:
            raise Malformed(f"MediaList/{index} has no MediaId")
        if (shown := unsafe_id(media_id)) is not None:
            raise Malformed(
                f"MediaList/{index} has a MediaId with control characters or line breaks: {shown}"
            )
        ids.append(media_id)
    token = body.get("ScrollToken")
    return Page(tuple(ids), total, token if isinstance(token, str) and token else None), notes


def jobs_of(body: Mapping[str, Any], asked: JobRef) -> tuple[list[Listed], list[str]]:
    """The jobs a ListJobInfo answer lists for the media and type asked (`asked`: JobType, MediaId),
    and the notes on it; Malformed when its list is not a list. An item without a JobId cannot be
    audited: it is a note, never skipped in silence."""
    notes = [f"ListJobInfo {asked.job_type} {asked.job_id}: {n}" for n in departures(body, LIST_SCHEMA)]
    items = body.get("JobInfoList", [])  # absent: no job (empty lists may be left out of an answer)
    if not isinstance(items, list):
        raise Malformed(f"JobInfoList is {type(items).__name__}, not a list")
    for name, expected in (("JobType", asked.job_type), ("MediaId", asked.job_id)):
        if name in body and body[name] != expected:
            raise Malformed(f"the answer is about {name} {body[name]!r}, not {expected!r}")
    listed = []
    for index, item in enumerate(items):
        job_id = item.get("JobId") if isinstance(item, dict) else None
        if not isinstance(job_id, str) or not job_id:
            notes.append(f"ListJobInfo {asked.job_type} {asked.job_id}: JobInfoList/{index} has no JobId")
            continue
        if (shown := unsafe_id(job_id)) is not None:
            # The id rule of every other source: an answer that could forge a line is not read on.
            raise Malformed(
                f"JobInfoList/{index} has a JobId with control characters or line breaks: {shown}"
            )
        status = item.get("Status")
        listed.append(
            Listed(JobRef(asked.job_type, job_id), asked.job_id, status if isinstance(status, str) else None)
        )
    return listed, notes
