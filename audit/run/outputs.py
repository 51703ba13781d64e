"""What success produced, asked once the jobs are judged: one GetPlayInfo (and GetMezzanineInfo) per media.

Only successful transcode jobs whose expectation has `output:` are checked, each media asked once
whatever the number of its jobs."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

from audit.calls.lanes import Lane
from audit.common.findings import Finding, outcome_of
from audit.common.jobtypes import JobRef, job_type, transcoded_media
from audit.expect.output import GONE, Played, judge_output, read_play_info, read_source_seconds
from audit.manifest.model import JobSpec
from audit.results.record import JobResult
from audit.vod.protocol import GET_MEZZANINE_INFO, GET_PLAY_INFO, PLAY_RESULT_TYPE
from audit.vod.records import Answer, CallResult, Fetched


def wants_output(spec: JobSpec, result: JobResult) -> bool:
    """Whether the job's output is checked tonight: a successful transcode job with `output:`. One
    that did not succeed is not (its status already says it)."""
    return (
        spec.output is not None
        and result.job_type == "transcode"
        and result.status in job_type("transcode").success
    )


def checked(
    results: Iterable[JobResult],
    specs: Mapping[JobRef, JobSpec],
    lanes: Mapping[str | None, Lane],
    stop: threading.Event,
) -> Iterable[JobResult]:
    """The results with their output findings, each media asked once through its provider's lane. A
    result whose output was not checked because the run was told to stop is left out: the run is
    then incomplete, never a job passed without its check."""
    listed = list(results)
    media: dict[JobRef, str | None] = {
        r.ref: transcoded_media(json.loads(r.body_json)) if r.body_json else None for r in listed
    }
    asked: dict[str | None, dict[str, bool]] = {}  # provider -> media -> whether its source is needed
    for result in listed:
        spec, media_id = specs[result.ref], media[result.ref]
        if media_id is not None and spec.output is not None:
            needs = asked.setdefault(spec.provider, {})
            needs[media_id] = needs.get(media_id, False) or spec.output.needs_source
    played: dict[tuple[str | None, str], Played] = {}
    sources: dict[tuple[str | None, str], float | str] = {}
    for provider, needs in asked.items() if not stop.is_set() else ():
        lane = lanes[provider]
        for fetched in _ask(lane, list(needs), GET_PLAY_INFO, stop):
            played[(provider, fetched.job.job_id)] = _played(fetched)
        for fetched in _ask(lane, [m for m, source in needs.items() if source], GET_MEZZANINE_INFO, stop):
            sources[(provider, fetched.job.job_id)] = _source(fetched)
    for result in listed:
        spec, media_id = specs[result.ref], media[result.ref]
        assert spec.output is not None
        if media_id is None:
            found: tuple[Finding, ...] = (
                Finding(
                    "error", "output", "the job's VideoId", "none", "the answer names no VideoId to check"
                ),
            )
        else:
            key = (spec.provider, media_id)
            if key not in played or (spec.output.needs_source and key not in sources):
                continue  # not asked before the run was told to stop: left out, the run is incomplete
            found = judge_output(result.job_id, media_id, spec.output, played[key], sources.get(key))
        yield _with(result, found) if found else result


def _with(result: JobResult, found: tuple[Finding, ...]) -> JobResult:
    findings = (*result.findings, *found)
    return replace(result, findings=findings, outcome=outcome_of(findings, terminal=True))


def _ask(lane: Lane, media: list[str], operation: str, stop: threading.Event) -> list[Fetched]:
    """One call (with its retries, at the operation's own limit) per media, several in flight."""
    if not media:
        return []
    conn = lane.conn
    client = conn.client()
    params = {"ResultType": PLAY_RESULT_TYPE} if operation == GET_PLAY_INFO else {}

    def ask(ref: JobRef) -> CallResult:
        return client.call(operation, {"VideoId": ref.job_id, **params})

    fetcher = conn.fetcher(client, operation, ask)
    lane.extra.append((operation, fetcher))  # its calls count in the provider's line and the run's totals
    try:
        with ThreadPoolExecutor(max_workers=min(conn.concurrency, len(media))) as pool:
            asked = pool.map(
                lambda m: None if stop.is_set() else fetcher.fetch_one(JobRef("media", m), stop), media
            )
            return [fetched for fetched in asked if fetched is not None]  # none started once told to stop
    finally:
        client.close()


def _played(fetched: Fetched) -> Played:
    result, media_id = fetched.result, fetched.job.job_id
    if isinstance(result, Answer):
        return read_play_info(result.body, media_id)
    if result.kind == "api" and result.code in GONE:
        return Played(gone=result.code)
    return Played(
        failed=f"GetPlayInfo for media {media_id}: {result.describe()} after {fetched.attempts} attempt(s)"
    )


def _source(fetched: Fetched) -> float | str:
    result, media_id = fetched.result, fetched.job.job_id
    if isinstance(result, Answer):
        return read_source_seconds(result.body, media_id)
    return f"GetMezzanineInfo for media {media_id}: {result.describe()} after {fetched.attempts} attempt(s)"
