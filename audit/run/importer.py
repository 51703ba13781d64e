"""`vod-audit import`: query listed jobs and print a manifest pinning their current values."""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from audit import jobtypes
from audit.errors import ExitStatus, UserError
from audit.files import read_input
from audit.jobtypes import JobRef
from audit.manifest.build import literal_problems
from audit.timeutil import duration_ceiling, seconds_between
from audit.vod.fetch import Fetcher
from audit.vod.records import Answer


def read_ids(source: str) -> list[str]:
    """One JobId per line; blank lines and `#` comments skipped; `-` reads standard input."""
    try:
        text = sys.stdin.read() if source == "-" else read_input(source).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"--ids {source}: cannot read: {getattr(exc, 'strerror', None) or exc}") from None
    ids = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    if not ids:
        raise UserError(f"--ids {source}: no job ids in it")
    return list(dict.fromkeys(ids))


def pin(job_type: str, body: dict[str, Any]) -> tuple[dict[str, Any], list[str]] | None:
    """The expectation that holds for this body today and what could not be pinned (why), or None
    when it has no detail object."""
    kind = jobtypes.job_type(job_type)
    detail = kind.detail(body)
    if detail is None:
        return None
    terminal = kind.is_terminal(detail.get("Status"))
    expect: dict[str, Any] = {}
    refused: list[str] = []
    for name in kind.pinned:
        if name not in detail:
            continue
        problems = literal_problems(job_type, name, detail[name])
        if problems:
            refused += problems  # a value a manifest could not state: said, never silently dropped
        elif terminal or name != "Status":
            # Identity of the work, not values that change per job; Status once it can no longer change.
            expect[name] = detail[name]
    seconds = seconds_between(detail.get("CreateTime"), detail.get(kind.end_field))
    if terminal and seconds is not None:
        expect["max_duration"] = duration_ceiling(seconds)
    return expect, refused


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
    for fetched in fetcher.fetch_many(order, concurrency=concurrency, stop=threading.Event()):
        job, result = fetched.job, fetched.result
        found = pin(job.job_type, result.body) if isinstance(result, Answer) else None
        if found is None:
            reason = "not found" if isinstance(result, Answer) or result.job_not_found else result.describe()
            err(f"vod-audit: {job.job_type} {job.job_id}: {reason}; left out")
            missing.append(job)
            continue
        expect, refused = found
        pinned[job] = expect
        for problem in refused:
            err(f"vod-audit: {job.job_type} {job.job_id}: not pinned: {problem}")
        if refused:
            unpinned.append(job)
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
    body = yaml.safe_dump({"version": 1, "jobs": jobs}, sort_keys=False, allow_unicode=True, width=120)
    return "\n".join(header) + "\n" + body, ExitStatus.FINDINGS if missing or unpinned else ExitStatus.OK
