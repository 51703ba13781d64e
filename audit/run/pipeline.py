"""The audit of a manifest as its plan says: reuse what is final, fetch the rest, judge, store; one result per job."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from audit.calls.connection import Connection
from audit.calls.lanes import Lane, calls_per_lane, side_by_side
from audit.common.findings import Finding, outcome_of
from audit.common.jobtypes import MEDIA_RESULT, JobRef, job_type
from audit.common.jsonfile import compact_json
from audit.common.timeutil import format_utc
from audit.expect.engine import Verdict, failed, judge
from audit.manifest.model import JobSpec, Manifest, RequiredMedia
from audit.options import RunOptions
from audit.plan.model import Plan
from audit.results.parts import DiscoveryRecord
from audit.results.record import JobResult, RunRecord
from audit.run.changes import Marking, tally
from audit.run.outputs import checked as checked_outputs
from audit.run.outputs import wants_output
from audit.run.record import run_record, trend, waiver_record
from audit.run.required import media_result
from audit.run.waivers import WaiverBook
from audit.state.answers import (
    Read,
    check_notes,
    checked_with,
    checks,
    decode,
    encode,
    is_final,
    judged_with,
    read,
)
from audit.state.store import Store, StoredAnswer
from audit.vod.records import Answer, Fetched


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the manifest: the connections, the options, where state lives."""

    connections: Mapping[str | None, Connection]  # by provider alias; None: the default provider
    options: RunOptions
    discovery: tuple[DiscoveryRecord, ...] = ()  # what the manifest's media sources found, and cost
    # Findings about a listed job's answer that discovery has (its media not listed in a window)
    noted: Callable[[JobResult], tuple[Finding, ...]] | None = None
    required: tuple[RequiredMedia, ...] = ()  # the media a source's `require:` judges, with their jobs


def _result(
    spec: JobSpec,
    verdict: Verdict,
    marking: Marking,
    *,
    seen: Read,
    body_json: str | None,
    fetched_at: str | None,
    from_state: bool,
    attempts: int,
    response_text: str | None = None,
) -> JobResult:
    outcome, found = verdict.outcome, verdict.findings
    if spec.noted:  # discovery's findings about the job's lists, whatever the answer said
        found = (*found, *spec.noted)
        outcome = outcome_of(found, verdict.terminal)
    change, findings = marking.mark(spec.ref, found)
    return JobResult(
        job_type=spec.job_type,
        job_id=spec.job_id,
        outcome=outcome,
        findings=findings,
        change=change,
        notes=tuple(f"{n.pointer}: {n.message}" for n in verdict.notes),
        description=spec.description,
        source=str(spec.position),
        status=verdict.status,
        duration=verdict.duration,
        max_duration=spec.max_duration,
        body_json=body_json,
        request_id=seen.request_id,
        fetched_at=fetched_at,
        from_state=from_state,
        attempts=attempts,
        response_text=response_text,
        provider=spec.provider,
        expectation=spec.expectation,
        **seen.facets,
    )


def reuse_stored(
    jobs: Sequence[JobSpec],
    stored: Mapping[JobRef, StoredAnswer],
    strict: bool,
    now: datetime,
    keep: Callable[[JobResult], None],
    marking: Marking,
) -> dict[JobRef, JobSpec]:
    """Judges every job whose stored answer the plan reuses and hands it to `keep`; returns the jobs to fetch.

    A final answer judged under the same tool, --strict and expectation is not judged again: its
    judgement is read back (and, when the answer is compact JSON already, the answer is not parsed)."""
    to_fetch: dict[JobRef, JobSpec] = {}
    for spec in jobs:
        previous = stored.get(spec.ref)
        if previous is None:
            to_fetch[spec.ref] = spec
            continue
        # Validated when stored; validated again only under another tool version or strictness.
        same_check = previous.checked_with == checked_with(strict)
        same = same_check and previous.judged_with == judged_with(spec, strict)
        known = decode(previous.judged) if same else None
        if known is not None and previous.canonical:
            (verdict, seen), parsed = known, previous.body
        else:
            body = json.loads(previous.body)
            # Answers as received are mostly compact JSON already: then they are the parsed form too.
            parsed = previous.body if previous.canonical else compact_json(body)
            verdict, seen = known or (
                judge(spec, body, now, strict=strict, checked=checks(previous.notes) if same_check else None),
                read(spec, body),
            )
        keep(
            _result(
                spec,
                verdict,
                marking,
                seen=seen,
                body_json=parsed,
                fetched_at=previous.fetched_at,
                from_state=True,
                attempts=0,
                response_text=previous.body if previous.body != parsed else None,
            )
        )
    return to_fetch


def new_run_id(started: datetime) -> str:
    """A run's id: when it started, and six random hex digits."""
    return f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"


@dataclass(frozen=True)
class Audited:
    """A run's record, and what the state is told of the run once its reports are written (commit.py)."""

    record: RunRecord
    run_id: str
    status: str  # complete, incomplete or failed
    remembered: tuple[tuple[str, str, str, dict[str, str]], ...]  # (type, id, outcome, findings)
    known: frozenset[JobRef]  # the jobs with findings before this run
    services: Mapping[JobRef, str]  # where each job was audited


def execute(
    manifest: Manifest,
    plan: Plan,
    settings: Settings,
    state: Store,
    *,
    stop: threading.Event,
    on_result: Callable[[JobResult], None] = lambda result: None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
    run_id: str | None = None,
) -> Audited:
    """Audits every job of `plan`; with `stop` set midway, returns what was collected, marked incomplete.

    The run is recorded as "reporting" until the command has written its reports and settled it
    (audit.run.commit): a run whose reports were never written (a full disk, a kill during the write)
    must not become the baseline that hides its new findings from every later night as "ongoing"."""
    options, connections = settings.options, settings.connections
    jobs = list(plan.jobs)
    started = now()
    run_id = run_id or new_run_id(started)
    book = WaiverBook(manifest.waivers, started)  # before the run is recorded: nothing left 'running'
    services = {spec.ref: connections[spec.provider].service for spec in jobs}
    for media in settings.required:  # a media's result is remembered where its jobs are audited
        services[JobRef(MEDIA_RESULT, media.media_id)] = connections[media.provider].service
    state.begin_run(
        run_id,
        format_utc(started),
        manifest.digest,
        ", ".join(sorted({c.service for c in connections.values()})),
        manifest.audit,
    )
    lanes = {alias: Lane(conn, plan.lanes[alias].account) for alias, conn in connections.items()}
    results: dict[JobRef, JobResult] = {}
    # Changes are judged as each result is built, against the findings known before this run.
    known = state.previous_findings(services)
    marking = Marking(known, format_utc(started))

    specs = {spec.ref: spec for spec in jobs}
    awaiting: list[JobResult] = []  # successful transcode jobs whose output is asked after the rest

    def keep(result: JobResult) -> None:
        if wants_output(specs[result.ref], result):
            awaiting.append(result)
        else:
            settle(result)

    def settle(result: JobResult, checked: bool = False) -> None:
        noted = settings.noted(result) if settings.noted is not None else ()
        if noted:  # warnings only: the outcome stands, the change is judged again below
            result = replace(result, findings=(*result.findings, *noted))
        waived = book.apply(result)
        if waived is not result or noted or checked:  # findings changed: the change again
            change, findings = marking.mark(waived.ref, waived.findings)
            waived = replace(waived, change=change, findings=findings)
        results[waived.ref] = waived
        on_result(waived)

    def finish(failed: bool) -> Audited:
        record = run_record(
            manifest, options, jobs, results, lanes, run_id, format_utc(started), now(), state.last_sums()
        )
        changes, remembered = tally(record.results)
        status = "failed" if failed else "incomplete" if record.incomplete else "complete"
        record = replace(
            record,
            changes=changes,
            waivers=tuple(waiver_record(waiver) for waiver in book.statuses()),
            discovery=settings.discovery,
        )
        counted = (record.counts, record.calls, record.retries, record.throttles)
        # Until its reports are written a complete run is "reporting"; killed then, it stays so.
        state.end_run(run_id, record.finished_at, "reporting" if status == "complete" else status, *counted)
        for lane in lanes.values():
            learnt = lane.learnt()
            if learnt is not None:
                state.learn_account(*learnt)
        record = replace(record, trend=trend(state.history(manifest.audit), run_id, status))
        return Audited(record, run_id, status, tuple(remembered), frozenset(known), services)

    try:
        to_fetch: dict[JobRef, JobSpec] = {}
        for alias, lane in lanes.items():
            planned = plan.lanes[alias]
            lane.jobs = len(planned.jobs)
            lane.owners.update(answer.account for answer in planned.reuse.values() if answer.account)
            to_fetch.update(reuse_stored(planned.jobs, planned.reuse, options.strict, now(), keep, marking))
        if to_fetch and not stop.is_set():
            for result in _fetch(lanes, to_fetch, state, run_id, options.strict, now, stop, marking):
                keep(result)
        for result in checked_outputs(awaiting, specs, lanes, stop):
            settle(result, checked=True)
        if not stop.is_set():  # a media lacks a job only if every job of it was audited
            for media in settings.required:
                settle(media_result(media, results), checked=True)
    except BaseException:
        finish(failed=True)
        raise
    return finish(failed=False)


def _fetch(
    lanes: Mapping[str | None, Lane],
    to_fetch: Mapping[JobRef, JobSpec],
    state: Store,
    run_id: str,
    strict: bool,
    now: Callable[[], datetime],
    stop: threading.Event,
    marking: Marking,
) -> Iterator[JobResult]:
    """Every job to fetch, through its provider's lane; the lanes run side by side."""
    refs: dict[str | None, list[JobRef]] = {}
    for key, spec in to_fetch.items():
        refs.setdefault(spec.provider, []).append(key)
    calls = calls_per_lane(lanes, {alias: len(listed) for alias, listed in refs.items()})

    def finisher(lane: Lane) -> Callable[[Fetched], JobResult]:
        def finish(fetched: Fetched) -> JobResult:
            spec = to_fetch[fetched.job]
            return _judge_fetched(spec, fetched, state, run_id, strict, now(), lane, marking)

        return finish

    streams = [
        lanes[alias].stream(listed, finisher(lanes[alias]), calls[alias], stop)
        for alias, listed in refs.items()
    ]
    return side_by_side(streams, stop)


def _owner(spec: JobSpec, body: dict[str, Any]) -> str | None:
    """The account a job belongs to by its answer: the detail object's UserId, "the ID of the user who
    submitted the task" (GetJobDetail reference; no UserId in a workflow's detail)."""
    kind = job_type(spec.job_type)
    detail = kind.detail(body)
    user = detail.get("UserId") if detail is not None else None
    if isinstance(user, bool) or not isinstance(user, int | str) or user in (0, ""):
        return None
    return str(user)


def _judge_fetched(
    spec: JobSpec,
    fetched: Fetched,
    state: Store,
    run_id: str,
    strict: bool,
    now: datetime,
    lane: Lane,
    marking: Marking,
) -> JobResult:
    fetched_at = format_utc(fetched.fetched_at)
    result = fetched.result
    if isinstance(result, Answer):
        body: Any = result.body
        parsed = None if result.anomalies else compact_json(body)
        # State keeps the answer exactly as received; results.json the parsed form, and the text too
        # where the two differ.
        text = result.text if result.text is not None else parsed or ""
        exact = text if text != parsed else None
        verdict = judge(spec, body, now, strict=strict, anomalies=result.anomalies)
        notes = check_notes(verdict)
        owner = _owner(spec, body)
        if owner is not None:
            lane.owners.add(owner)
        seen = read(spec, body)
        final = is_final(verdict)
        state.store(
            lane.conn.service,
            StoredAnswer(
                spec.job_type,
                spec.job_id,
                text,
                fetched_at,
                final,
                checked_with(strict),
                notes,
                run_id,
                canonical=exact is None,
                # The answer's own UserId first: what the credentials are known to belong to says
                # nothing of an answer another account's job came back with.
                account=owner or lane.account or "",
                # Kept for the nights that reuse the answer: judged again only if what judged it changes.
                judged_with=judged_with(spec, strict) if final else "",
                judged=encode(verdict, seen) if final else "",
            ),
        )
        body_json: str | None = parsed
    else:
        body_json = exact = None
        seen = read(spec, None)
        attempts = f" after {fetched.attempts} attempt{'s' if fetched.attempts > 1 else ''}"
        verdict = failed(result.describe() + attempts, not_found=result.job_not_found)
    return _result(
        spec,
        verdict,
        marking,
        seen=seen,
        body_json=body_json,
        fetched_at=fetched_at,
        from_state=False,
        attempts=fetched.attempts,
        response_text=exact,
    )
