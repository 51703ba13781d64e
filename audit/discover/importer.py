"""`vod-audit import`: query listed jobs and print a manifest pinning their current values."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import audit.common.jobtypes as jobtypes
from audit.calls.fetch import Fetcher
from audit.common.errors import ExitStatus, UserError
from audit.common.files import ids_in, read_input
from audit.common.jobtypes import JobRef
from audit.common.timeutil import duration_ceiling, seconds_between
from audit.manifest.values import literal_problems
from audit.vod.records import Answer


def read_ids(source: str, flag: str = "--ids", what: str = "job ids") -> list[str]:
    """One id per line; blank lines and `#` comments skipped; `-` reads standard input."""
    try:
        text = sys.stdin.read() if source == "-" else read_input(source).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"{flag} {source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    ids = ids_in(text)
    if not ids:
        raise UserError(f"{flag} {source}: no {what} in it")
    return ids


@dataclass(frozen=True)
class Pinned:
    """What import pins for one job: the expectation, what could not be pinned (why), and the status
    it has now when that is not the success the expectation asks for."""

    expect: dict[str, Any]
    refused: list[str]
    failing: str | None = None  # e.g. TranscodeFail: the job does not meet its expectation today


def pin(job_type: str, body: dict[str, Any]) -> Pinned | None:
    """The expectation a team wants of this job (its identity as it is today, and the success status
    of its type, never a failure), or None when the body has no detail object."""
    kind = jobtypes.job_type(job_type)
    detail = kind.detail(body)
    if detail is None:
        return None
    status = detail.get("Status")
    succeeded = isinstance(status, str) and status in kind.success
    expect: dict[str, Any] = {}
    refused: list[str] = []
    for name in kind.pinned:
        if name == "Status":
            # The success of its type: a failed job pinned as it is would pass as ok night after night.
            wanted = sorted(kind.success)
            expect[name] = status if succeeded else wanted[0] if len(wanted) == 1 else {"one_of": wanted}
            if name in detail and not succeeded:
                refused += literal_problems(job_type, name, status)  # a status the reference does not list
            continue
        if name not in detail:
            continue
        problems = literal_problems(job_type, name, detail[name])
        if problems:
            refused += problems  # a value a manifest could not state: said, never silently dropped
        else:
            expect[name] = detail[name]  # identity of the work, not values that change per job
    seconds = seconds_between(detail.get("CreateTime"), detail.get(kind.end_field))
    if succeeded and seconds is not None:
        expect["max_duration"] = duration_ceiling(seconds)
    failing = str(status) if kind.is_terminal(status) and not succeeded else None
    return Pinned(expect, refused, failing)


def import_jobs(
    refs: Iterable[JobRef],
    fetcher: Fetcher,
    concurrency: int,
    source: str,
    err: Callable[[str], None],
) -> tuple[str, ExitStatus]:
    """(manifest text, exit code): 0 when every job was pinned, 2 when some were not found or failed."""
    import yaml

    order = list(dict.fromkeys(refs))
    pinned: dict[JobRef, dict[str, Any]] = {}
    missing: list[JobRef] = []
    unpinned: list[JobRef] = []  # pinned, but without a value a manifest could not state
    failing: list[tuple[JobRef, str]] = []  # finished, but not as its type succeeds
    for fetched in fetcher.fetch_many(order, concurrency=concurrency, stop=threading.Event()):
        job, result = fetched.job, fetched.result
        found = pin(job.job_type, result.body) if isinstance(result, Answer) else None
        if found is None:
            reason = "not found" if isinstance(result, Answer) or result.job_not_found else result.describe()
            err(f"vod-audit: {job.job_type} {job.job_id}: {reason}; left out")
            missing.append(job)
            continue
        pinned[job] = found.expect
        for problem in found.refused:
            err(f"vod-audit: {job.job_type} {job.job_id}: not pinned: {problem}")
        if found.refused:
            unpinned.append(job)
        if found.failing:
            err(
                f"vod-audit: {job.job_type} {job.job_id}: {found.failing} now; pinned "
                f"Status {_said(found.expect['Status'])}, which it does not meet"
            )
            failing.append((job, found.failing))
    jobs = [
        {"id": ref.job_id, "type": ref.job_type, **({"expect": pinned[ref]} if pinned[ref] else {})}
        for ref in order
        if ref in pinned
    ]
    header = [f"# Pinned by vod-audit import on {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ} from {source}"]
    header += [f"# left out (not found or failed): {ref.job_type} {ref.job_id}" for ref in missing]
    header += [
        f"# pinned in part (a value no manifest could state): {ref.job_type} {ref.job_id}" for ref in unpinned
    ]
    header += [
        f"# fails its expectation now ({status}, not a success): {ref.job_type} {ref.job_id}"
        for ref, status in failing
    ]
    body = yaml.safe_dump({"version": 1, "jobs": jobs}, sort_keys=False, allow_unicode=True, width=120)
    code = ExitStatus.FINDINGS if missing or unpinned or failing else ExitStatus.OK
    return "\n".join(header) + "\n" + body, code


def _said(status: Any) -> str:
    return " or ".join(status["one_of"]) if isinstance(status, dict) else str(status)
