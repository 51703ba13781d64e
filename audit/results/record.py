"""Frozen records of a run and its per-job results: the verdict, the gate and the statement every output says."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from audit.common.channels import ChannelSpec
from audit.common.errors import ExitStatus
from audit.common.findings import Finding, Outcome
from audit.common.jobtypes import JobRef
from audit.common.words import counted
from audit.results.parts import (
    CredentialsUsed,
    DiscoveryRecord,
    FailOn,
    NotificationRecord,
    ProviderLine,
    TrendPoint,
    WaiverRecord,
)

FORMAT = 1
BAD_OUTCOMES = frozenset({Outcome.DRIFT, Outcome.INVALID, Outcome.NOT_FOUND})


@dataclass(frozen=True, slots=True)
class JobResult:
    """Everything known about one audited job."""

    job_type: str
    job_id: str
    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    notes: tuple[str, ...] = ()
    description: str | None = None
    source: str | None = None  # file:line:col of the job in the manifest
    status: str | None = None
    duration: float | None = None
    max_duration: float | None = None
    template_id: str | None = None
    definition: str | None = None
    ai_job_type: str | None = None
    body_json: str | None = None  # the response as parsed, in compact JSON (None: no strict form)
    request_id: str | None = None
    fetched_at: str | None = None
    from_state: bool = False
    attempts: int = 0
    # The response exactly as received, where that differs from body_json (other spacing, or what
    # strict JSON refuses: duplicate names, numbers beyond a double). Text, so that no reader of
    # results.json ever parses it into something else.
    response_text: str | None = None
    change: str | None = None  # new | ongoing | resolved | clean, against the previous complete run
    provider: str | None = None  # the provider alias it was audited with; None: the default provider
    expectation: str | None = None  # what the manifest asked of it, in words (None: from an older file)

    @property
    def ref(self) -> JobRef:
        return JobRef(self.job_type, self.job_id)

    @property
    def provider_name(self) -> str:
        """The provider alias, `default` for the default provider (results.json keeps null)."""
        return self.provider or DEFAULT_PROVIDER

    @property
    def counted(self) -> tuple[Finding, ...]:
        """The findings that weigh on the outcome (warnings left out)."""
        return tuple(f for f in self.findings if f.counts)

    @property
    def first_seen(self) -> str | None:
        """When its oldest counted finding was first seen: how long the job has been failing."""
        return min((f.first_seen for f in self.counted if f.first_seen), default=None)

    @property
    def warnings(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity == "warning" and f.waived is None)

    @property
    def waived(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.waived is not None)

    @property
    def overdue_or_over_budget(self) -> bool:
        return any(f.kind == "duration" and f.field == "max_duration" for f in self.findings)


DEFAULT_PROVIDER = "default"  # how reports name the default provider


@dataclass(frozen=True)
class RunRecord:
    """A run: how it was made, what it cost, and one result per audited job."""

    run_id: str
    tool_version: str
    started_at: str
    finished_at: str
    endpoint: str
    emulator: bool
    manifests: tuple[tuple[str, str], ...]  # (path, sha256)
    manifest_digest: str
    planned: int
    results: tuple[JobResult, ...]
    calls: int = 0
    retries: int = 0
    throttles: int = 0
    incomplete: bool = False
    access_key_id: str | None = None  # masked
    options: Mapping[str, Any] = field(default_factory=dict)  # as resolved, for the reader; never decides
    state_error: str | None = None  # the state could not be written: why, and how much was lost
    waivers: tuple[WaiverRecord, ...] = ()  # each waiver of the manifest and what became of it
    changes: Mapping[str, int] = field(default_factory=dict)  # jobs new, ongoing, resolved
    trend: tuple[TrendPoint, ...] = ()  # the last runs on this state, oldest first
    credentials: CredentialsUsed = field(default_factory=CredentialsUsed)
    stopped_by: str | None = None  # why a run ended early other than by a signal (credentials lost)
    providers: tuple[ProviderLine, ...] = ()
    fail_on: FailOn = "any"  # the gate that turns findings into exit 2
    sources: Mapping[str, int] = field(default_factory=dict)  # planned jobs by the list that named them
    previous_sums: str | None = None  # SHA-256 of the SHA256SUMS of the last complete run on this state
    audit: str = ""  # the audit's name (manifest `name:` or file names): its changes and trend are its own
    channels: tuple[ChannelSpec, ...] = ()  # the manifest's notify: channels (no secret), for a resend
    notifications: tuple[NotificationRecord, ...] = ()  # what became of each channel after the run
    discovery: tuple[DiscoveryRecord, ...] = ()  # what each media source found, and what it cost
    # Calls of what success produced (GetPlayInfo, GetMezzanineInfo), by operation: in `calls` too.
    output_calls: Mapping[str, int] = field(default_factory=dict)
    allow_empty: bool = False  # no job to audit is expected: EMPTY passes the gate
    empty_because: str = ""  # why no job was there to audit, when none was

    # Each figure below walks every result; a run's outputs ask for them a dozen times, so each is
    # worked out once per record (a new record, from `replace`, works them out again).
    @cached_property
    def counts(self) -> dict[str, int]:
        """Jobs by outcome (every outcome, zero included); read, never changed, by its callers."""
        found = Counter(result.outcome.value for result in self.results)
        return {outcome.value: found.get(outcome.value, 0) for outcome in Outcome}

    @cached_property
    def warnings(self) -> int:
        """Warnings over all jobs: shown and counted in every report, never in the exit code."""
        return sum(len(result.warnings) for result in self.results)

    @cached_property
    def waived(self) -> int:
        """Findings covered by a live waiver: reported as waived, counted apart, never in the exit code."""
        return sum(len(result.waived) for result in self.results)

    @cached_property
    def exit_code(self) -> ExitStatus:
        """0 all ok/pending; 2 drift, invalid or not_found (with fail_on new: only in a job whose
        findings are new); 3 errors only, or interrupted."""
        if self.empty:  # an audit of nothing proves nothing: a failure, unless it was expected
            return ExitStatus.OK if self.allow_empty else ExitStatus.ERROR
        new_only = self.fail_on == "new"
        outcomes = {r.outcome for r in self.results if not new_only or r.change in (None, "new")}
        if outcomes & BAD_OUTCOMES:
            return ExitStatus.FINDINGS
        outcomes = {result.outcome for result in self.results}
        if Outcome.ERROR in outcomes or self.incomplete:
            return ExitStatus.INCOMPLETE
        return ExitStatus.OK

    @property
    def empty(self) -> bool:
        """No job was there to audit (not: a run stopped before it audited any)."""
        return self.planned == 0 and not self.incomplete

    @property
    def verdict(self) -> str:
        """The state of the jobs, whatever the gate decided: FAIL (jobs with findings), INCOMPLETE
        (the run stopped early), ERRORS (jobs without an answer), PASS. A `--fail-on new` night with
        only ongoing findings is FAIL with its gate passed, never PASS."""
        outcomes = {result.outcome for result in self.results}
        if outcomes & BAD_OUTCOMES:
            return "FAIL"
        if self.empty:
            return "EMPTY"
        if self.incomplete:
            return "INCOMPLETE"
        return "ERRORS" if Outcome.ERROR in outcomes else "PASS"

    @property
    def gate(self) -> str:
        """The decision of the gate and its exit code: `gate --fail-on new: passed, exit 0`."""
        decided = "passed" if self.exit_code == ExitStatus.OK else "failed"
        if self.empty:
            why = (
                "expected (allow_empty)"
                if self.allow_empty
                else "not expected (allow_empty: true or --allow-empty)"
            )
            return f"gate: an empty audit is {why}: {decided}, exit {self.exit_code:d}"
        return f"gate --fail-on {self.fail_on}: {decided}, exit {self.exit_code:d}"

    @property
    def gate_document(self) -> dict[str, Any]:
        """The gate as results.json and evidence.json write it."""
        return {
            "fail_on": self.fail_on,
            "passed": self.exit_code == ExitStatus.OK,
            "exit_code": int(self.exit_code),
            "allow_empty": self.allow_empty,
        }

    @property
    def new_failing(self) -> int:
        """Jobs with findings new since the last complete run (all of them, when there was none)."""
        return sum(1 for r in self.results if r.outcome in BAD_OUTCOMES and r.change in (None, "new"))

    @property
    def statement(self) -> str:
        """Both facts, as every output says them: `FAIL: 8 jobs with findings (0 new); gate --fail-on
        new: passed, exit 0`."""
        counts = self.counts
        failing = sum(counts[o.value] for o in BAD_OUTCOMES)
        new = self.new_failing
        waived = counts[Outcome.WAIVED.value]
        if self.empty:
            state = f"no job to audit ({self.empty_because or 'the manifests list none'})"
        elif failing:
            state = f"{_jobs(failing)} with findings ({new} new)"
        elif self.incomplete:
            state = f"{len(self.results)} of {self.planned} jobs audited, the run stopped early"
        elif counts[Outcome.ERROR.value]:
            state = f"{_jobs(counts[Outcome.ERROR.value])} without an answer"
        else:
            state = f"{_jobs(len(self.results) - waived)} ok or pending"
        accepted = f", {_jobs(waived)} waived (accepted, not passing)" if waived else ""
        return f"{self.verdict}: {state}{accepted}; {self.gate}"


def _jobs(count: int) -> str:
    return counted(count, "job")


def waiver_lines(run: RunRecord, escape: Callable[[str], str] = str) -> list[str]:
    """What a reader must hear about the waivers: how much they waived, which expired, which waive
    nothing any more, which lapse soon (the console, summary.md and report.html all say it)."""
    lines = []
    if run.waived:
        lines.append(
            f"{run.waived} finding{'s' if run.waived != 1 else ''} waived (counted apart, in no outcome)."
        )
    groups = (
        (lambda w: w.state == "expired", "expired, waives nothing"),
        (lambda w: w.state == "stale", "waives nothing any more"),
        (lambda w: w.state != "expired" and w.expires_soon, "expires within 14 days"),
    )
    for selected, said in groups:
        for waiver in filter(selected, run.waivers):
            lines.append(
                f"waiver for {escape(waiver.what)} ({escape(waiver.source)}, until {waiver.expires}): {said}"
            )
    return lines


def ordered(results: Iterable[JobResult]) -> list[JobResult]:
    """Worst outcome first, then by type and id: the order of every report."""
    return sorted(results, key=lambda r: (r.outcome.rank, r.job_type, r.job_id))
