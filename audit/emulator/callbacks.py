"""The emulator's VOD-style events: a completion event per finished job, POSTed signed to a URL or queued.

Each event has its type's shape as the event references give it (the events source lists them:
audit.manifest.sources.events), and is signed as VOD signs callbacks (audit.vod.callback). As VOD
does, a delivery is tried three times, a second apart, and counts as delivered only on HTTP 200.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from audit.common.jobtypes import job_type
from audit.common.timeutil import format_utc
from audit.emulator.data import StoredJob
from audit.emulator.queues import Queues
from audit.vod.callback import signed_headers

TRIES, PAUSE, TIMEOUT = 3, 1.0, 5.0  # VOD's: three tries, a second apart, five seconds each


def event_of(job: StoredJob) -> dict[str, Any] | None:
    """The completion event of a finished job, in its type's shape; None for one still running."""
    kind = job_type(job.job_type)
    detail = kind.detail(job.body) or {}
    status = detail.get("Status")
    if not kind.is_terminal(status):
        return None
    state = "success" if status in kind.success else "fail"
    at = detail.get(kind.end_field) or format_utc(datetime.now(UTC))
    media = detail.get("VideoId") or detail.get("MediaId")
    shapes: dict[str, dict[str, Any]] = {
        "transcode": {"EventType": "StreamTranscodeComplete", "JobId": job.job_id, "Status": state},
        "snapshot": {
            "EventType": "SnapshotComplete",
            "SnapshotInfos": [{"JobId": job.job_id, "Status": state}],
        },
        "ai": {"EventType": "AIMediaAuditComplete", "JobId": job.job_id, "Status": state},
        "workflow": {"EventType": "WorkflowTaskComplete", "TaskId": job.job_id, "Status": status},
    }
    event = {**shapes[job.job_type], "EventTime": at}
    if isinstance(media, str):
        event["VideoId" if job.job_type != "ai" else "MediaId"] = media
    return event


def enqueue_all(queues: Queues, queue: str, jobs: Iterable[StoredJob], encoded: bool) -> int:
    """Every finished job's event put in the queue, as VOD writes to a queue it is given (raw JSON,
    or base64 of it); how many."""
    put = 0
    for job in jobs:
        event = event_of(job)
        if event is not None:
            body = json.dumps(event)
            queues.put(queue, base64.b64encode(body.encode()).decode() if encoded else body)
            put += 1
    return put


def deliver_all(
    url: str,
    auth_key: str,
    jobs: Iterable[StoredJob],
    *,
    say: Callable[[str], None] = lambda line: None,
    clock: Callable[[], float] = time.time,
) -> Mapping[str, int]:
    """Every finished job's event, signed against `url`; how many were delivered and how many not."""
    counted = {"delivered": 0, "undelivered": 0}
    for job in jobs:
        event = event_of(job)
        if event is None:
            continue
        body = json.dumps(event).encode()
        for attempt in range(TRIES):
            headers = {"Content-Type": "application/json", **signed_headers(url, int(clock()), auth_key)}
            request = urllib.request.Request(url, data=body, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=TIMEOUT) as answer:
                    if answer.status == 200:
                        counted["delivered"] += 1
                        break
            except (urllib.error.URLError, OSError):
                pass
            if attempt + 1 < TRIES:
                time.sleep(PAUSE)
        else:
            counted["undelivered"] += 1
            say(f"callback for {job.job_type} {job.job_id} not delivered after {TRIES} tries (VOD drops it)")
    return counted
