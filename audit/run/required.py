"""A result per media a source's `require:` judges: the jobs it must have, found among tonight's results (pure)."""

from __future__ import annotations

from collections.abc import Mapping

from audit.common.findings import Finding, outcome_of
from audit.common.jobtypes import MEDIA_RESULT, JobRef, job_type
from audit.manifest.model import RequiredMedia, Requirement
from audit.results.record import JobResult


def media_result(media: RequiredMedia, results: Mapping[JobRef, JobResult]) -> JobResult:
    """The media's result: ok when each requirement is met by successful jobs of it, else drift with a
    `missing_job` finding per requirement missed. A job counts when tonight's answer says it succeeded
    (and, for a Definition, was of that Definition)."""
    mine = [results[ref] for ref in media.jobs if ref in results]
    found = tuple(
        _missing(media, need, have)
        for need in media.requirements
        if (have := sum(1 for r in mine if _meets(r, need))) < need.count
    )
    return JobResult(
        job_type=MEDIA_RESULT,
        job_id=media.media_id,
        outcome=outcome_of(found, terminal=True),
        findings=found,
        source=str(media.position),
        provider=media.provider,
        expectation="require: " + "; ".join(need.describe() for need in media.requirements),
    )


def _meets(result: JobResult, need: Requirement) -> bool:
    if result.job_type != need.job_type or result.status not in job_type(need.job_type).success:
        return False
    return need.definition is None or result.definition == need.definition


def _missing(media: RequiredMedia, need: Requirement, have: int) -> Finding:
    listed = sum(1 for ref in media.jobs if ref.job_type == need.job_type)
    return Finding(
        "missing_job",
        need.field,
        need.describe(),
        f"{have} of {listed} listed" if listed else "none listed",
        f"media {media.media_id} has no {need.describe().removeprefix('a ')}"
        + (f" ({have} of {need.count})" if need.count > 1 else ""),
    )
