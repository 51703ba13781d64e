"""What discovery adds to a manifest's jobs: the jobs no list names, and findings about the lists (pure)."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import replace

from audit.common.findings import Finding
from audit.common.jobtypes import MEDIA_FIELDS, JobRef, job_type
from audit.common.timeutil import parse_utc
from audit.discover.walk import Discovery
from audit.manifest.model import JobSpec, Manifest
from audit.results.parts import DiscoveryRecord
from audit.results.record import JobResult


def _unmanaged(found: Discovery, media_id: str) -> Finding:
    counts = found.query.unmanaged == "fail"
    return Finding(
        "unmanaged",
        "",
        "a job the manifest lists",
        "not listed",
        f"the service lists this job (media {media_id}, found by {found.query.label}) and no list of "
        "the manifest names it: it was audited against defaults:",
        "error" if counts else "warning",
    )


def _missed_event(found: Discovery, media_id: str) -> Finding:
    return Finding(
        "missed_event",
        "",
        "an event notification",
        "none",
        f"the service lists this job (media {media_id}, found by {found.query.label}) and no event "
        "file of the manifest names it: a lost callback?",
        "warning",
    )


def _unlisted(types: set[str]) -> Finding:
    return Finding(
        "unlisted",
        "",
        "a job the service lists",
        "not listed",
        "an event named this job, and discovery (ListJobInfo for the "
        f"{'/'.join(sorted(types))} jobs of the media searched) did not list it: an event of another "
        "account, region or window?",
        "warning",
    )


def expand(manifest: Manifest, found: Sequence[Discovery]) -> tuple[Manifest, tuple[DiscoveryRecord, ...]]:
    """The manifest with the discovered jobs no list names (each with its type's defaults and its
    source's provider), and the findings discovery has about the jobs: `unmanaged` (when its source
    says report or fail), `missed_event` and `unlisted` (when the manifest also reads event files)."""
    listed: dict[JobRef, JobSpec] = {spec.ref: spec for spec in manifest.jobs}
    events = manifest.evented  # named by an event, whether or not a list of the manifest names it too
    noted: dict[JobRef, list[Finding]] = {}
    added: dict[JobRef, JobSpec] = {}
    records = []
    for discovery in found:
        new = 0
        for ref, job in discovery.jobs.items():
            notes = noted.setdefault(ref, [])
            if ref not in listed and discovery.query.unmanaged != "ignore":
                notes.append(_unmanaged(discovery, job.media_id))
            if events and ref not in events:
                notes.append(_missed_event(discovery, job.media_id))
            if ref in listed or ref in added:
                continue
            new += 1
            expected = manifest.defaults.get(ref.job_type)
            added[ref] = JobSpec(
                ref.job_type,
                ref.job_id,
                expected.expect if expected else (),
                discovery.query.position,
                expected.max_duration if expected else None,
                expected.min_duration if expected else None,
                None,
                discovery.query.provider,
                "media",
                output=expected.output if expected else None,
            )
        records.append(
            DiscoveryRecord(
                str(discovery.query.position),
                discovery.provider,
                discovery.window,
                len(discovery.media),
                len(discovery.jobs),
                new,
                dict(discovery.calls),
                tuple(discovery.notes),
            )
        )
    types = {kind for discovery in found if not discovery.query.media_ids for kind in discovery.query.types}
    discovered = {ref for discovery in found for ref in discovery.jobs}
    for ref in events:
        if ref.job_type in types and ref not in discovered:
            noted.setdefault(ref, []).append(_unlisted(types))
    jobs = [_with(spec, noted.get(spec.ref)) for spec in (*manifest.jobs, *added.values())]
    return replace(manifest, jobs=tuple(jobs)), tuple(records)


def unlisted_media(found: Sequence[Discovery]) -> Callable[[JobResult], tuple[Finding, ...]] | None:
    """For the jobs the lists name (not discovery), a check of their answers: a job created inside a
    searched window whose media the service did not list there (deleted, or another account's) is
    said `unlisted`. Windows with filters are left out: a media they skip is skipped on purpose.
    None when no source searched a window."""
    windows = [(d.query, set(d.media)) for d in found if not d.query.media_ids and not d.query.filtered]
    if not windows:
        return None
    discovered = {ref for d in found for ref in d.jobs}

    def check(result: JobResult) -> tuple[Finding, ...]:
        field = MEDIA_FIELDS.get(result.job_type)
        if field is None or result.ref in discovered or result.body_json is None:
            return ()
        detail = job_type(result.job_type).detail(json.loads(result.body_json)) or {}
        media, created = detail.get(field), parse_utc(detail.get("CreateTime"))
        if not isinstance(media, str) or created is None:
            return ()
        for query, listed in windows:
            if query.provider != result.provider or media in listed:
                continue
            if (query.since is None or created >= query.since) and (
                query.until is None or created <= query.until
            ):
                return (
                    Finding(
                        "unlisted",
                        field,
                        "a media the service lists",
                        media,
                        f"the job was created in the window of {query.label}, and the service did not list "
                        f"its media {media} there: deleted since, or of another account?",
                        "warning",
                    ),
                )
        return ()

    return check


def _with(spec: JobSpec, notes: list[Finding] | None) -> JobSpec:
    return replace(spec, noted=(*spec.noted, *notes)) if notes else spec
