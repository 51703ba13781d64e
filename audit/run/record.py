"""The record of a run: its results in manifest order, what it cost, how it was made, its trend."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime

from audit import __version__
from audit.calls.lanes import Lane
from audit.common.jobtypes import MEDIA_RESULT, JobRef
from audit.common.timeutil import format_utc
from audit.common.words import counted
from audit.manifest.model import JobSpec, Manifest
from audit.options import RunOptions
from audit.results.parts import CredentialsUsed, TrendPoint, WaiverRecord, mask
from audit.results.record import JobResult, RunRecord
from audit.run.waivers import WaiverStatus


def run_record(
    manifest: Manifest,
    options: RunOptions,
    jobs: Sequence[JobSpec],
    results: Mapping[JobRef, JobResult],
    lanes: Mapping[str | None, Lane],
    run_id: str,
    started_at: str,
    finished: datetime,
    previous_sums: str | None = None,
) -> RunRecord:
    """The record of a run: its results in manifest order, what it cost, how it was made."""
    # The run's own line is the default provider's, or the first one's when no job uses it.
    main = lanes.get(None) or next(iter(lanes.values()))
    conn = main.conn
    stats = [lane.stats for lane in lanes.values()]
    return RunRecord(
        run_id=run_id,
        tool_version=__version__,
        started_at=started_at,
        finished_at=format_utc(finished),
        endpoint=conn.endpoint.url,
        emulator=conn.emulator_url is not None,
        manifests=tuple((s.path, s.sha256) for s in manifest.sources),
        manifest_digest=manifest.digest,
        planned=len(jobs),
        # Manifest order, by walking the plan: no sort, and no key made again per result.
        results=(
            *(results[spec.ref] for spec in jobs if spec.ref in results),
            *(result for ref, result in results.items() if ref.job_type == MEDIA_RESULT),  # require:
        ),
        calls=sum(s.calls for s in stats),
        output_calls=dict(sum((Counter(lane.other_calls()) for lane in lanes.values()), Counter())),
        retries=sum(s.retries for s in stats),
        throttles=sum(s.throttles for s in stats),
        incomplete=len(results) < len(jobs),
        access_key_id=mask(conn.keys.access_key_ids[0]),
        options=options.record(),
        credentials=CredentialsUsed(
            conn.keys.source.describe,
            tuple(mask(key) for key in conn.keys.access_key_ids),
            conn.keys.renewals,
        ),
        stopped_by=next((lane.conn.keys.failure for lane in lanes.values() if lane.conn.keys.failure), None),
        providers=tuple(lane.record() for lane in lanes.values()),
        fail_on=options.fail_on,
        sources=dict(Counter(spec.origin for spec in jobs)),
        allow_empty=options.allow_empty or manifest.allow_empty,
        empty_because="" if jobs else nothing_to_audit(manifest),
        previous_sums=previous_sums,
        audit=manifest.audit,
        channels=manifest.notify,
    )


TREND_RUNS = 30


def trend(history: list[dict[str, object]], run_id: str, status: str) -> tuple[TrendPoint, ...]:
    """The last TREND_RUNS runs recorded on this state (this one included, as `status`), oldest first."""
    return tuple(
        TrendPoint(
            str(run["run_id"]),
            str(run["started_at"]),
            status if run["run_id"] == run_id else str(run["status"]),
            json.loads(str(run["counts"])),
        )
        for run in [run for run in history if run.get("counts")][-TREND_RUNS:]
    )


def waiver_record(status: WaiverStatus) -> WaiverRecord:
    waiver = status.waiver
    return WaiverRecord(
        job=waiver.job_id,
        type=waiver.job_type,
        field=waiver.field,
        reason=waiver.reason,
        owner=waiver.owner,
        expires=waiver.expires.isoformat(),
        source=str(waiver.position),
        state=status.state,
        waived=status.waived,
        expires_soon=status.soon,
    )


def nothing_to_audit(manifest: Manifest) -> str:
    """Why a manifest holds no job to audit, in the words every output says it with."""
    read, skipped = manifest.events
    said = []
    if read:
        whole = "all" if skipped == read else f"{skipped}"
        said.append(f"{counted(read, 'event')} read, {whole} outside since/until or naming no job")
    if manifest.queries:
        said.append(f"{counted(len(manifest.queries), 'media source')} listed no job")
    return "; ".join(said) or "the manifests list no job"
