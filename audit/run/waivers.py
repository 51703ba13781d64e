"""Waivers at the time of a run: the live ones mark the findings they cover, and what each did is told."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from audit.common.findings import Outcome, Waived, outcome_of
from audit.common.jobtypes import MEDIA_RESULT, job_type
from audit.manifest.model import Waiver
from audit.results.record import JobResult

SOON = timedelta(days=14)  # a live waiver lapsing within this is announced
WaiverState = Literal["live", "expired", "stale"]


@dataclass(frozen=True, slots=True)
class WaiverStatus:
    """What became of one waiver in a run."""

    waiver: Waiver
    state: WaiverState  # expired: past its day, waives nothing; stale: live, but nothing left to waive
    waived: int  # findings it covered
    soon: bool  # live, and lapsing within SOON


class WaiverBook:
    """The manifest's waivers as of `now` (the run's start): applied to each result as it is kept."""

    def __init__(self, waivers: Sequence[Waiver], now: datetime) -> None:
        self._waivers = tuple(waivers)
        self._now = now
        self._live: dict[str, list[int]] = {}
        for index, waiver in enumerate(self._waivers):
            if waiver.live(now):
                self._live.setdefault(waiver.job_id, []).append(index)
        self._used: Counter[int] = Counter()

    def apply(self, result: JobResult) -> JobResult:
        """The result with every finding a live waiver covers marked waived, and its outcome again."""
        candidates = self._live.get(result.job_id)
        if not candidates:
            return result
        findings = []
        used: list[int] = []
        for finding in result.findings:
            index = next(
                (
                    i
                    for i in candidates
                    if self._waivers[i].covers(result.job_type, result.job_id, finding.kind, finding.field)
                ),
                None,
            )
            if index is not None:
                waiver = self._waivers[index]
                finding = replace(
                    finding, waived=Waived(waiver.reason, waiver.owner, waiver.expires.isoformat())
                )
                used.append(index)
            findings.append(finding)
        if not used:
            return result
        self._used.update(used)
        # A failed call has no status to judge: with its failure waived, there is nothing against it.
        failed = result.outcome in (Outcome.ERROR, Outcome.NOT_FOUND)
        # A media's result (require:) has no status: it is judged on what its jobs already are.
        finished = (
            failed or result.job_type == MEDIA_RESULT or job_type(result.job_type).is_terminal(result.status)
        )
        return replace(result, findings=tuple(findings), outcome=outcome_of(findings, finished))

    def statuses(self) -> tuple[WaiverStatus, ...]:
        """Every waiver, in manifest order, with what it did in this run."""
        found = []
        for index, waiver in enumerate(self._waivers):
            live = waiver.live(self._now)
            waived = self._used.get(index, 0)
            state: WaiverState = "expired" if not live else "live" if waived else "stale"
            found.append(WaiverStatus(waiver, state, waived, live and waiver.lapses - self._now <= SOON))
        return tuple(found)
