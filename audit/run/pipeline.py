"""The audit of a manifest: plan, reuse state, fetch, judge, store; one result per audited job."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit import __version__
from audit.errors import UserError
from audit.expect.engine import Outcome, Verdict, failed, judge
from audit.manifest.model import JobSpec, Manifest
from audit.results import JobResult, RunRecord, mask
from audit.run.connection import Connection
from audit.run.state import State
from audit.schema.store import detail_objects
from audit.schema.validate import Violation
from audit.timeutil import format_utc
from audit.vod.client import VodClient, dumps_body
from audit.vod.fetch import Fetched, Fetcher
from audit.vod.records import Answer, JobRef


@dataclass(frozen=True)
class Settings:
    """Everything a run needs besides the manifest, resolved from flags, provider block and defaults."""

    connection: Connection
    state_path: Path
    refresh: bool
    strict: bool
    targets: tuple[str, ...]
    state_key: str  # identifies the service in state: the endpoint, or the emulator's data file


def plan(jobs: Sequence[JobSpec], targets: Sequence[str]) -> list[JobSpec]:
    """The manifest's jobs, or only those named by --target (each target must name a job)."""
    if not targets:
        return list(jobs)
    ids = {job.job_id for job in jobs}
    unknown = [t for t in targets if t not in ids]
    if unknown:
        raise UserError(f"--target {unknown[0]}: no such job in the manifest")
    wanted = set(targets)
    return [job for job in jobs if job.job_id in wanted]


def _facets(job_type: str, body: Any) -> dict[str, str | None]:
    detail = body.get(detail_objects()[job_type]) if isinstance(body, dict) else None
    detail = detail if isinstance(detail, dict) else {}

    def text(name: str) -> str | None:
        value = detail.get(name)
        return value if isinstance(value, str) else None

    return {
        "template_id": text("TemplateId") if job_type == "transcode" else None,
        "definition": text("Definition") if job_type == "transcode" else None,
        "ai_job_type": text("JobType") if job_type == "ai" else None,
    }


def _result(
    spec: JobSpec,
    verdict: Verdict,
    *,
    body: Any,
    body_json: str | None,
    fetched_at: str | None,
    from_state: bool,
    attempts: int,
) -> JobResult:
    request_id = body.get("RequestId") if isinstance(body, dict) else None
    return JobResult(
        job_type=spec.job_type,
        job_id=spec.job_id,
        outcome=verdict.outcome,
        findings=verdict.findings,
        notes=tuple(f"{n.pointer}: {n.message}" for n in verdict.notes),
        description=spec.description,
        source=str(spec.position),
        status=verdict.status,
        duration=verdict.duration,
        max_duration=spec.max_duration,
        body_json=body_json,
        request_id=request_id if isinstance(request_id, str) else None,
        fetched_at=fetched_at,
        from_state=from_state,
        attempts=attempts,
        **_facets(spec.job_type, body),
    )


def _checked_with(strict: bool) -> str:
    return f"{__version__}{' strict' if strict else ''}"


def _notes(text: str) -> tuple[Violation, ...]:
    return tuple(Violation(pointer, message, "note") for pointer, message in json.loads(text))


def _is_final(verdict: Verdict) -> bool:
    return verdict.terminal and verdict.outcome in (Outcome.OK, Outcome.DRIFT)


def execute(
    manifest: Manifest,
    settings: Settings,
    *,
    stop: threading.Event,
    on_result: Callable[[JobResult], None] = lambda result: None,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> RunRecord:
    """Audits every planned job; with `stop` set midway, returns what was collected, marked incomplete."""
    jobs = plan(manifest.jobs, settings.targets)
    started = now()
    run_id = f"{started:%Y%m%dT%H%M%SZ}-{uuid.uuid4().hex[:6]}"
    conn = settings.connection
    state = State(settings.state_path, settings.state_key, conn.credentials.access_key_id)
    state.begin_run(run_id, format_utc(started), manifest.digest)
    results: dict[tuple[str, str], JobResult] = {}
    fetcher: Fetcher | None = None
    client: VodClient | None = None
    failure = False

    def keep(result: JobResult) -> None:
        results[(result.job_type, result.job_id)] = result
        on_result(result)

    try:
        stored = {} if settings.refresh else state.lookup(job.key for job in jobs)
        to_fetch: dict[tuple[str, str], JobSpec] = {}
        for spec in jobs:
            previous = stored.get(spec.key)
            if previous is not None and previous.final:
                body = json.loads(previous.body)
                # Validated when stored; validated again only under another tool version or strictness.
                checked = (
                    _notes(previous.notes)
                    if previous.checked_with == _checked_with(settings.strict)
                    else None
                )
                verdict = judge(spec, body, now(), strict=settings.strict, checked=checked)
                keep(
                    _result(
                        spec,
                        verdict,
                        body=body,
                        body_json=previous.body,
                        fetched_at=previous.fetched_at,
                        from_state=True,
                        attempts=0,
                    )
                )
            else:
                to_fetch[spec.key] = spec
        if to_fetch and not stop.is_set():
            client = conn.client()
            fetcher = conn.fetcher(client)
            refs = (JobRef(*key) for key in to_fetch)

            def finish(fetched: Fetched) -> JobResult:
                spec = to_fetch[(fetched.job.job_type, fetched.job.job_id)]
                return _judge_fetched(spec, fetched, state, run_id, settings.strict, now())

            for result in fetcher.fetch_each(refs, finish, concurrency=conn.concurrency, stop=stop):
                keep(result)
    except BaseException:
        failure = True
        raise
    finally:
        if client is not None:
            client.close()
        incomplete = len(results) < len(jobs)
        stats = fetcher.stats if fetcher else None
        order = {spec.key: index for index, spec in enumerate(jobs)}
        record = RunRecord(
            run_id=run_id,
            tool_version=__version__,
            started_at=format_utc(started),
            finished_at=format_utc(now()),
            endpoint=conn.endpoint.url,
            emulator=conn.emulator_url is not None,
            manifests=tuple((s.path, s.sha256) for s in manifest.sources),
            manifest_digest=manifest.digest,
            planned=len(jobs),
            results=tuple(sorted(results.values(), key=lambda r: order[(r.job_type, r.job_id)])),
            calls=stats.calls if stats else 0,
            retries=stats.retries if stats else 0,
            throttles=stats.throttles if stats else 0,
            incomplete=incomplete,
            access_key_id=mask(conn.credentials.access_key_id),
            options={
                "qps": conn.qps,
                "concurrency": conn.concurrency,
                "timeout": conn.timeout,
                "retries": conn.retries,
                "signature": conn.signature,
                "strict": settings.strict,
                "refresh": settings.refresh,
                "targets": list(settings.targets),
            },
        )
        status = "failed" if failure else "incomplete" if incomplete else "complete"
        state.end_run(
            run_id, record.finished_at, status, record.counts, record.calls, record.retries, record.throttles
        )
        state.close()
    return record


def _judge_fetched(
    spec: JobSpec, fetched: Fetched, state: State, run_id: str, strict: bool, now: datetime
) -> JobResult:
    fetched_at = format_utc(fetched.fetched_at)
    result = fetched.result
    if isinstance(result, Answer):
        body: Any = result.body
        body_json: str | None = dumps_body(body)
        verdict = judge(spec, body, now, strict=strict)
        notes = json.dumps([[n.pointer, n.message] for n in verdict.notes])
        state.store(
            spec.job_type,
            spec.job_id,
            body_json,
            fetched_at,
            _is_final(verdict),
            _checked_with(strict),
            notes,
            run_id,
        )
    else:
        body = body_json = None
        attempts = f" after {fetched.attempts} attempt{'s' if fetched.attempts > 1 else ''}"
        verdict = failed(result.describe() + attempts, not_found=result.job_not_found)
    return _result(
        spec,
        verdict,
        body=body,
        body_json=body_json,
        fetched_at=fetched_at,
        from_state=False,
        attempts=fetched.attempts,
    )
