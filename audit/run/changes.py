"""Night over night: each job's change against the previous complete run, and each finding's streak."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import replace

from audit.jobtypes import JobRef
from audit.results import JobResult

# Per job, the findings that count at the last complete run that audited it: {fingerprint: first_seen}
Known = Mapping[JobRef, Mapping[str, str]]


def mark_changes(
    results: Sequence[JobResult], known: Known, started_at: str
) -> tuple[tuple[JobResult, ...], dict[str, int], list[tuple[str, str, str, dict[str, str]]]]:
    """(results with `change` and `first_seen` set, counts of new/ongoing/resolved jobs, what to
    remember of this run for the next: (type, id, outcome, {fingerprint: first_seen}) per job).

    new: findings now, none before (or never audited); ongoing: findings before and now;
    resolved: findings before, none now; clean: none either time. A finding's first_seen is the
    start of the first run of its unbroken streak.
    """
    marked = []
    tally: Counter[str] = Counter()
    remembered = []
    for result in results:
        before = known.get(result.ref, {})
        counted = {f.fingerprint for f in result.findings if f.counts}
        streaks = {fingerprint: before.get(fingerprint, started_at) for fingerprint in counted}
        change = ("ongoing" if before else "new") if counted else ("resolved" if before else "clean")
        tally[change] += 1
        findings = tuple(
            replace(f, first_seen=streaks[f.fingerprint]) if f.counts else f for f in result.findings
        )
        marked.append(replace(result, findings=findings, change=change))
        remembered.append((result.job_type, result.job_id, result.outcome.value, streaks))
    return tuple(marked), {name: tally[name] for name in ("new", "ongoing", "resolved")}, remembered
