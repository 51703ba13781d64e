"""The job-type catalogue: one frozen record per GetJobDetail JobType, read from the schemas' `x-` keys."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, NamedTuple

# The JobType values GetJobDetail accepts, in the order reports list them. Written here as well as in
# the envelope schema's `x-detailObjects` so that the command line can offer them without reading any
# schema file; `catalogue()` refuses to start when the two disagree.
NAMES = ("transcode", "snapshot", "ai", "workflow")

# The job types ListJobInfo lists ("transcoding tasks, snapshot tasks, and AI tasks", ListJobInfo
# reference, JobType), each with the detail field naming its media (GetJobDetail reference): what
# discovery asks for, and what a job's media is read from.
MEDIA_FIELDS = {"transcode": "VideoId", "snapshot": "VideoId", "ai": "MediaId"}
# The type of a result about a whole media (a source's `require:`), beside the job types' results.
MEDIA_RESULT = "media"

# The JobIds GetJobDetail's reference shows in its examples are 32 lower-case letters and digits
# ("2dc1634e**********3f1d22d1a0174e", "63df12s0**********4hdq249t82kr91"). No page states the form:
# an id of another shape is our inference of a typo, and only ever warned about (`validate`).
JOB_ID_SHAPE = re.compile(r"[0-9a-z]{32}")

# What the manifest schema refuses in an id (its `jobs[].id` pattern), from every source alike: no
# JobId or MediaId holds a control character or a line break, and a line of a report, of the console
# or of a printed manifest could be forged with one.
UNSAFE_ID = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029]")


def unsafe_id(value: str) -> str | None:
    """`value` escaped for a message when it holds what no id may, else None."""
    return json.dumps(value)[1:-1] if UNSAFE_ID.search(value) else None


# Report facets: a column of the results that only some job types fill, from a field of their detail.
FACETS = ("template_id", "definition", "ai_job_type")


class JobRef(NamedTuple):
    """A job's identity everywhere (manifest, state, results, reports): GetJobDetail's JobType and JobId.

    A named tuple rather than a dataclass: it keys dicts of 100,000 jobs in every stage, and a
    tuple hashes in C."""

    job_type: str
    job_id: str


@dataclass(frozen=True, slots=True)
class JobType:
    """What every part of the pipeline needs to know about one job type."""

    name: str  # the JobType parameter: transcode, snapshot, ai, workflow
    detail_object: str  # the response member holding the job, e.g. TranscodeJobDetail
    id_field: str  # the detail field naming the job: JobId, or TaskId for workflow tasks
    end_field: str  # the completion time: CompleteTime, or FinishTime for workflow tasks
    statuses: tuple[str, ...]  # every Status value the reference lists
    terminal: frozenset[str]  # statuses after which nothing changes
    success: frozenset[str]  # terminal statuses that mean the work was done
    pinned: tuple[str, ...]  # fields `vod-audit import` pins: what the work was, not per-job values
    facets: Mapping[str, str]  # report facet -> detail field, e.g. template_id -> TemplateId
    fields: Mapping[str, Any]  # the detail object's property schemas, by field name

    def detail(self, body: Any) -> Mapping[str, Any] | None:
        """The body's detail object for this type, or None when it has none (or not an object)."""
        detail = body.get(self.detail_object) if isinstance(body, Mapping) else None
        return detail if isinstance(detail, Mapping) else None

    def is_terminal(self, status: Any) -> bool:
        return isinstance(status, str) and status in self.terminal

    def facet_values(self, detail: Mapping[str, Any] | None) -> dict[str, str | None]:
        """Every facet of FACETS: the detail's text where this type has that facet, else None."""
        values: dict[str, str | None] = dict.fromkeys(FACETS)
        for facet, name in self.facets.items():
            value = detail.get(name) if detail is not None else None
            values[facet] = value if isinstance(value, str) else None
        return values


def _record(name: str, detail_object: str, schema: Mapping[str, Any]) -> JobType:
    return JobType(
        name=name,
        detail_object=detail_object,
        id_field=schema["x-idField"],
        end_field=schema["x-endField"],
        statuses=tuple(schema["properties"]["Status"].get("enum", ())),
        terminal=frozenset(schema["x-terminalStatuses"]),
        success=frozenset(schema["x-successStatuses"]),
        pinned=tuple(schema["x-pinned"]),
        facets=dict(schema["x-facets"]),
        fields=schema["properties"],
    )


@cache
def catalogue() -> dict[str, JobType]:
    """Every job type by name, in the order of NAMES."""
    from audit.common.schemafiles import all_schemas

    schemas = all_schemas()
    objects: dict[str, str] = schemas["urn:vod-audit:envelope"]["x-detailObjects"]
    if tuple(objects) != NAMES:
        raise RuntimeError(f"the envelope schema lists job types {tuple(objects)}, the code {NAMES}")
    return {name: _record(name, objects[name], schemas[f"urn:vod-audit:{name}"]) for name in NAMES}


def job_type(name: str) -> JobType:
    """The record of one job type; KeyError for a name outside NAMES."""
    return catalogue()[name]


def transcoded_media(body: Any) -> str | None:
    """The media a transcode job's answer says it produced a stream of: its VideoId when its Status
    is a success (the one rule the plan and the output checks share), else None."""
    kind = job_type("transcode")
    detail = kind.detail(body) if isinstance(body, Mapping) else None
    if detail is None or detail.get("Status") not in kind.success:
        return None
    media = detail.get(MEDIA_FIELDS["transcode"])
    return media if isinstance(media, str) and media else None
