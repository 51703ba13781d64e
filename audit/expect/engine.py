"""The pure judgement of one job: (expectation, response or failure, now) -> outcome and findings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from audit.common.findings import Finding, Outcome, outcome_of
from audit.common.jobtypes import JobType, job_type
from audit.common.timeutil import format_duration, parse_utc, seconds_between
from audit.manifest import matchers
from audit.manifest.model import JobSpec
from audit.schema.validate import Violation, validate_response


@dataclass(frozen=True, slots=True)
class Verdict:
    """The judgement of one job: its outcome, findings and notes, and what was read from the body."""

    outcome: Outcome
    findings: tuple[Finding, ...] = ()
    notes: tuple[Violation, ...] = ()  # unknown fields outside --strict: reported, not failing
    status: str | None = None
    duration: float | None = None
    terminal: bool = False
    checks: tuple[Violation, ...] = ()  # every warning and note of the schema check, kept in state


def failed(message: str, *, not_found: bool = False) -> Verdict:
    """The verdict for a job whose call gave no usable body."""
    if not_found:
        return Verdict(Outcome.NOT_FOUND, (Finding("not_found", "JobId", "a job", "none", message),))
    return Verdict(Outcome.ERROR, (Finding("error", "", "an answer", "none", message),))


def judge(
    spec: JobSpec,
    body: Any,
    now: datetime,
    *,
    strict: bool = False,
    checked: tuple[Violation, ...] | None = None,
    anomalies: tuple[str, ...] = (),
) -> Verdict:
    """Outcome and findings of one job's 200 body; never raises, whatever the body holds.

    `checked` is the body's known schema verdict (a stored body validated before), which
    spares validating it again.
    """
    kind = job_type(spec.job_type)
    detail = kind.detail(body)
    if detail is None:
        return failed(
            f"GetJobDetail returned no {kind.detail_object}: the job does not exist or is older than "
            "the six months the API can see",
            not_found=True,
        )
    violations = validate_response(body, strict=strict) if checked is None else checked
    # What I-JSON (RFC 7493) forbids: the parsed form cannot be trusted to be what was sent.
    violations = (
        tuple(Violation("", text, "violation", "i-json", "standard") for text in anomalies) + violations
    )
    findings = [
        Finding(
            "schema",
            v.pointer,
            "valid per schema",
            v.severity,
            v.message,
            "error" if v.severity == "violation" else "warning",
        )
        for v in violations
        if v.severity != "note"
    ]
    notes = tuple(v for v in violations if v.severity == "note")
    status = detail.get("Status")
    terminal = kind.is_terminal(status)
    duration = seconds_between(detail.get("CreateTime"), detail.get(kind.end_field)) if terminal else None

    for field, matcher in spec.expect:
        if not terminal and _known_once_finished(kind, field):
            continue
        findings.extend(_mismatches(field, matcher, detail.get(field, matchers.MISSING)))
    findings.extend(_duration_findings(spec, detail, terminal, duration, now, kind.end_field))

    # Warnings stand beside the judgement: the job is judged on its expectations all the same.
    outcome = outcome_of(findings, terminal)
    kept = tuple(v for v in violations if v.severity != "violation")
    return Verdict(
        outcome, tuple(findings), notes, status if isinstance(status, str) else None, duration, terminal, kept
    )


def _known_once_finished(kind: JobType, field: str) -> bool:
    # Facts only a finished job has: judged once the job is terminal.
    return field in ("Status", kind.end_field)


def _mismatches(field: str, matcher: matchers.Matcher, actual: Any) -> list[Finding]:
    found = []
    for path, failing, value in matchers.failures(matcher, actual):
        name = f"{field}{path}" if path not in ("", ".") else field
        expected, shown = failing.describe(), matchers.show(value)
        found.append(Finding("mismatch", name, expected, shown, f"{name} is {shown}, expected {expected}"))
    return found


def _unknown_duration(spec: JobSpec, detail: Mapping[str, Any], fields: tuple[str, ...]) -> list[Finding]:
    """A bound that cannot be checked is a finding: the job is never passed on a time it lacks."""
    shown = ", ".join(f"{name} {matchers.show(detail.get(name, matchers.MISSING))}" for name in fields)
    bounds = [
        (name, limit)
        for name, limit in (("max_duration", spec.max_duration), ("min_duration", spec.min_duration))
        if limit is not None
    ]
    return [
        Finding(
            "duration",
            name,
            f"a duration to hold to {name} {format_duration(limit)}",
            "unknown",
            f"{name} {format_duration(limit)} cannot be checked: {shown}",
        )
        for name, limit in bounds
    ]


def _duration_findings(
    spec: JobSpec, detail: Mapping[str, Any], terminal: bool, duration: float | None, now: datetime, end: str
) -> list[Finding]:
    found = []
    if terminal and duration is None:
        return _unknown_duration(spec, detail, ("CreateTime", end))
    if terminal and duration is not None:
        if spec.max_duration is not None and duration > spec.max_duration:
            limit = format_duration(spec.max_duration)
            found.append(
                Finding(
                    "duration",
                    "max_duration",
                    f"at most {limit}",
                    format_duration(duration),
                    f"took {format_duration(duration)}, over max_duration {limit}",
                )
            )
        if spec.min_duration is not None and duration < spec.min_duration:
            limit = format_duration(spec.min_duration)
            found.append(
                Finding(
                    "duration",
                    "min_duration",
                    f"at least {limit}",
                    format_duration(duration),
                    f"took {format_duration(duration)}, under min_duration {limit}",
                )
            )
    elif not terminal and spec.max_duration is not None:
        created = parse_utc(detail.get("CreateTime"))
        if created is None:
            return [f for f in _unknown_duration(spec, detail, ("CreateTime",)) if f.field == "max_duration"]
        age = (now - created).total_seconds()
        if age > spec.max_duration:
            limit = format_duration(spec.max_duration)
            found.append(
                Finding(
                    "duration",
                    "max_duration",
                    f"finished within {limit}",
                    f"still {detail.get('Status')} after {format_duration(age)}",
                    f"overdue: still {detail.get('Status')} after {format_duration(age)}, "
                    f"max_duration {limit}",
                )
            )
    return found
