"""Night over night: each job's change against the previous complete run, and each finding's streak."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace

from audit.common.findings import Finding
from audit.common.jobtypes import JobRef
from audit.results.record import JobResult

# Per job, the findings that count at the last complete run that audited it: {fingerprint: first_seen}
Known = Mapping[JobRef, Mapping[str, str]]


@dataclass(frozen=True)
class Marking:
    """What a result's change is judged against: the findings known from the last complete run, and
    this run's start (the first_seen of a finding first seen now)."""

    known: Known
    started_at: str

    def mark(self, ref: JobRef, findings: tuple[Finding, ...]) -> tuple[str, tuple[Finding, ...]]:
        """(change, findings with first_seen set on those that count, cleared on the others), as a
        result is built: no copy of the result afterwards.

        new: findings now, none before (or never audited); ongoing: findings before and now;
        resolved: findings before, none now; clean: none either time. A finding's first_seen is the
        start of the first run of its unbroken streak."""
        before = self.known.get(ref, {})
        if not findings:
            return ("resolved" if before else "clean"), findings
        counted = False
        marked = []
        for finding in findings:
            seen = before.get(finding.fingerprint, self.started_at) if finding.counts else None
            counted = counted or finding.counts
            marked.append(finding if finding.first_seen == seen else replace(finding, first_seen=seen))
        change = ("ongoing" if before else "new") if counted else ("resolved" if before else "clean")
        return change, tuple(marked)


def tally(results: Iterable[JobResult]) -> tuple[dict[str, int], list[tuple[str, str, str, dict[str, str]]]]:
    """(counts of new/ongoing/resolved jobs, what to remember of this run for the next: (type, id,
    outcome, {fingerprint: first_seen}) per job) of results already marked."""
    counted: Counter[str] = Counter()
    remembered = []
    for result in results:
        counted[result.change or "clean"] += 1
        streaks = {f.fingerprint: f.first_seen or "" for f in result.findings if f.counts}
        remembered.append((result.job_type, result.job_id, result.outcome.value, streaks))
    return {name: counted[name] for name in ("new", "ongoing", "resolved")}, remembered
