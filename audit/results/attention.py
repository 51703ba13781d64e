"""The jobs someone must act on, in the order and words every output uses (console, reports, messages)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from audit.common.findings import Outcome
from audit.results.record import BAD_OUTCOMES, JobResult, RunRecord


def needing_action(run: RunRecord) -> list[JobResult]:
    """The jobs someone must act on (findings that count, or no answer): new first, then ongoing,
    each worst first, then by type and id."""
    failing = [r for r in run.results if r.outcome in BAD_OUTCOMES or r.outcome is Outcome.ERROR]
    return sorted(
        failing, key=lambda r: (r.change not in (None, "new"), r.outcome.rank, r.job_type, r.job_id)
    )


# Discovery's findings about a job's lists (not about its answer), in the order outputs list them.
DISCOVERY_KINDS = ("unmanaged", "missed_event", "unlisted")
DISCOVERY_WORDS = {
    "unmanaged": "named by no list of the manifest",
    "missed_event": "listed by the service, named by no event (lost callbacks?)",
    "unlisted": "named by an event, not listed by the service",
}


def discovered(run: RunRecord) -> dict[str, list[JobResult]]:
    """The jobs each discovery finding kind names, by kind (only kinds that name a job)."""
    found: dict[str, list[JobResult]] = {}
    for result in run.results:
        for kind in dict.fromkeys(f.kind for f in result.findings if f.kind in DISCOVERY_KINDS):
            found.setdefault(kind, []).append(result)
    return {kind: found[kind] for kind in DISCOVERY_KINDS if kind in found}


def what_is_wrong(result: JobResult) -> str:
    """Its first counted finding (and how many more), or what a waiver covers; "" when nothing."""
    if result.counted:
        more = len(result.counted) - 1
        return result.counted[0].message + (f" (and {more} more)" if more else "")
    if result.waived:
        return f"waived: {result.waived[0].message}"
    return ""


@dataclass(frozen=True)
class ActionLine:
    """A job needing action, as the page and the messages name it."""

    change: str  # new | ongoing | "" (no earlier run to compare with)
    outcome: str
    job_type: str
    job_id: str
    said: str  # what is wrong
    description: str
    since: str  # the date its findings were first seen, or ""
    nights: int  # calendar nights it has been failing, this one included (0: not known)
    owner: str


def action_lines(run: RunRecord, limit: int) -> tuple[list[ActionLine], int]:
    """The first `limit` jobs needing action (new first) and how many there are."""
    failing = needing_action(run)
    owners = _owners(run)
    today = _day(run.started_at)
    lines = []
    for result in failing[:limit]:
        since = result.first_seen or ""
        start = _day(since)
        nights = (today - start).days + 1 if today and start else 0
        lines.append(
            ActionLine(
                change="" if result.change in (None, "clean") else result.change,
                outcome=result.outcome.value,
                job_type=result.job_type,
                job_id=result.job_id,
                said=what_is_wrong(result) or result.outcome.value,
                description=result.description or "",
                since=since[:10],
                nights=nights,
                owner=", ".join(owners.get(result.job_id, ())),
            )
        )
    return lines, len(failing)


def _owners(run: RunRecord) -> dict[str, list[str]]:
    """Job id → the owners its waivers name (live or not: an expired waiver's owner still answers for it)."""
    found: dict[str, list[str]] = {}
    for waiver in run.waivers:
        if waiver.owner and waiver.owner not in found.setdefault(waiver.job, []):
            found[waiver.job].append(waiver.owner)
    return found


def _day(stamp: str) -> date | None:
    try:
        return date.fromisoformat(stamp[:10])
    except ValueError:
        return None
