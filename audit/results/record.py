"""Frozen records of a run and its per-job results, and their JSON form (`results.json`, format 1)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from typing import Any

from audit.common.channels import ChannelSpec
from audit.common.errors import ExitStatus, UserError
from audit.common.findings import Finding, Outcome, Waived, finding_kind, finding_severity
from audit.common.jobtypes import JobRef
from audit.common.jsonfile import compact_json
from audit.results.parts import (
    CredentialsUsed,
    DiscoveryRecord,
    FailOn,
    NotificationRecord,
    ProviderLine,
    TrendPoint,
    WaiverRecord,
    checked_fields,
    fail_on,
    part_json,
    part_of,
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
        new_only = self.fail_on == "new"
        outcomes = {r.outcome for r in self.results if not new_only or r.change in (None, "new")}
        if outcomes & BAD_OUTCOMES:
            return ExitStatus.FINDINGS
        outcomes = {result.outcome for result in self.results}
        if Outcome.ERROR in outcomes or self.incomplete:
            return ExitStatus.INCOMPLETE
        return ExitStatus.OK

    @property
    def verdict(self) -> str:
        """The state of the jobs, whatever the gate decided: FAIL (jobs with findings), INCOMPLETE
        (the run stopped early), ERRORS (jobs without an answer), PASS. A `--fail-on new` night with
        only ongoing findings is FAIL with its gate passed, never PASS."""
        outcomes = {result.outcome for result in self.results}
        if outcomes & BAD_OUTCOMES:
            return "FAIL"
        if self.incomplete:
            return "INCOMPLETE"
        return "ERRORS" if Outcome.ERROR in outcomes else "PASS"

    @property
    def gate(self) -> str:
        """The decision of the gate and its exit code: `gate --fail-on new: passed, exit 0`."""
        decided = "passed" if self.exit_code == ExitStatus.OK else "failed"
        return f"gate --fail-on {self.fail_on}: {decided}, exit {self.exit_code:d}"

    @property
    def gate_document(self) -> dict[str, Any]:
        """The gate as results.json and evidence.json write it."""
        return {
            "fail_on": self.fail_on,
            "passed": self.exit_code == ExitStatus.OK,
            "exit_code": int(self.exit_code),
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
        if failing:
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
    return f"{count} job{'s' if count != 1 else ''}"


def _head(run: RunRecord) -> dict[str, Any]:
    document = {name.name: getattr(run, name.name) for name in fields(run) if name.name != "results"}
    document["manifests"] = [{"path": p, "sha256": d} for p, d in run.manifests]
    document["options"] = dict(run.options)
    document["counts"] = run.counts
    document["warnings"] = run.warnings
    document["waived"] = run.waived
    document["waivers"] = [part_json(w) for w in run.waivers]
    document["changes"] = dict(run.changes)
    document["trend"] = [part_json(t) for t in run.trend]
    document["credentials"] = part_json(run.credentials)
    document["providers"] = [part_json(p) for p in run.providers]
    document["sources"] = dict(run.sources)
    document["channels"] = [part_json(c) for c in run.channels]
    document["notifications"] = [part_json(n) for n in run.notifications]
    document["discovery"] = [part_json(d) for d in run.discovery]
    document["exit_code"] = int(run.exit_code)
    document["verdict"] = run.verdict  # the state of the jobs; the gate decided the exit code
    document["gate"] = run.gate_document
    document["statement"] = run.statement
    return {"format": FORMAT, **document}


def parts(run: RunRecord) -> Iterator[str]:
    """results.json as it is written: the run's fields indented, then one result per line.

    Each stored body is already canonical JSON, so it is spliced in as it is: parsing 100,000
    responses only to serialise them again was most of the cost of writing this file. The lines
    are yielded in batches, never joined into the whole text (which was the peak of a run's memory).
    """
    text = json.dumps(_head(run), ensure_ascii=False, indent=1)
    yield text[:-2] + ',\n "results": [\n'
    encode = json.JSONEncoder(ensure_ascii=False).encode
    batch: list[str] = []
    for index, result in enumerate(run.results):
        if index:
            batch.append(",\n")
        batch += (encode(_result_document(result))[:-1], ', "response": ', result.body_json or "null", "}")
        if len(batch) >= 4096:
            yield "".join(batch)
            batch.clear()
    batch.append("\n ]\n}\n")
    yield "".join(batch)


# Field names looked up once: results.json of a 100,000-job run writes each of them 100,000 times.
_RESULT_FIELDS = tuple(f.name for f in fields(JobResult))
_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


def _result_document(result: JobResult) -> dict[str, Any]:
    """A result's entry in results.json, less its response (dumps splices in its compact JSON)."""
    document = {name: getattr(result, name) for name in _RESULT_FIELDS if name != "body_json"}
    document["outcome"] = result.outcome.value
    document["findings"] = [_finding_document(f) for f in result.findings]
    document["notes"] = list(result.notes)
    return document


def _finding_document(finding: Finding) -> dict[str, Any]:
    document = {name: getattr(finding, name) for name in _FINDING_FIELDS}
    if finding.waived is not None:
        waived = finding.waived
        document["waived"] = {"reason": waived.reason, "owner": waived.owner, "expires": waived.expires}
    return document


def from_document(document: Any, source: str, items: Iterable[Any] | None = None) -> RunRecord:
    """A run back from results.json (its results from `items` when given, read one at a time);
    UserError naming what is wrong when it is not one."""
    try:
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"not a vod-audit results file of format {FORMAT}")
        results = tuple(_result_from(item) for item in (document["results"] if items is None else items))
        options = document.get("options") or {}
        return RunRecord(
            run_id=str(document["run_id"]),
            tool_version=str(document["tool_version"]),
            started_at=str(document["started_at"]),
            finished_at=str(document["finished_at"]),
            endpoint=str(document["endpoint"]),
            emulator=bool(document["emulator"]),
            manifests=tuple((str(m["path"]), str(m["sha256"])) for m in document["manifests"]),
            manifest_digest=str(document["manifest_digest"]),
            planned=int(document["planned"]),
            results=results,
            calls=int(document["calls"]),
            retries=int(document["retries"]),
            throttles=int(document["throttles"]),
            incomplete=bool(document["incomplete"]),
            access_key_id=document.get("access_key_id"),
            options=dict(options),
            state_error=document.get("state_error"),
            waivers=tuple(part_of(WaiverRecord, w) for w in document.get("waivers") or ()),
            changes=dict(document.get("changes") or {}),
            trend=tuple(part_of(TrendPoint, t) for t in document.get("trend") or ()),
            credentials=part_of(CredentialsUsed, document.get("credentials") or {}),
            stopped_by=document.get("stopped_by"),
            providers=tuple(part_of(ProviderLine, p) for p in document.get("providers") or ()),
            # Written by every version as `fail_on` at the top; earlier files kept it in options only.
            fail_on=fail_on(document.get("fail_on", options.get("fail_on", "any"))),
            sources={str(kind): int(count) for kind, count in (document.get("sources") or {}).items()},
            previous_sums=_optional_text(document.get("previous_sums"), "previous_sums"),
            audit=_optional_text(document.get("audit"), "audit") or "",
            channels=tuple(part_of(ChannelSpec, c) for c in document.get("channels") or ()),
            notifications=tuple(part_of(NotificationRecord, n) for n in document.get("notifications") or ()),
            discovery=tuple(part_of(DiscoveryRecord, d) for d in document.get("discovery") or ()),
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UserError(f"{source}: not a valid results file: {detail}") from None


def _result_from(item: Mapping[str, Any]) -> JobResult:
    findings = tuple(
        Finding(
            finding_kind(f["kind"]),
            str(f["field"]),
            str(f["expected"]),
            str(f["actual"]),
            str(f["message"]),
            finding_severity(f.get("severity", "error")),
            _waived(f.get("waived")),
            f.get("first_seen"),
        )
        for f in item["findings"]
    )
    response = item.get("response")
    return JobResult(
        outcome=Outcome(item["outcome"]),
        findings=findings,
        notes=tuple(str(n) for n in item.get("notes", [])),
        body_json=compact_json(response) if response is not None else None,
        **checked_fields(JobResult, item, _READ_APART),
    )


_READ_APART = frozenset({"outcome", "findings", "notes", "body_json"})


def _optional_text(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _waived(value: Any) -> Waived | None:
    if value is None:
        return None
    owner = value.get("owner")
    return Waived(str(value["reason"]), str(owner) if owner is not None else None, str(value["expires"]))


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
