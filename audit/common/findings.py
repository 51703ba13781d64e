"""What a judgement says about a job: its outcome and its findings, shared by engine, results and reports."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Literal, cast, get_args

FindingKind = Literal[
    "mismatch",
    "duration",
    "schema",
    "not_found",
    "error",
    "unmanaged",
    "missed_event",
    "unlisted",
    "output",
    "missing_job",
]
# output: a successful transcode job whose stream tonight is missing or not what `output:` says.
# missing_job: a media that lacks a job its source's `require:` says every media must have.
# unmanaged: a job discovery found that no other list of the manifest names; missed_event: one the
# service lists that no event notification named (a lost callback); unlisted: one an event named that
# the service's job list does not hold. The last two are our inference: they only ever warn.
# error: counts against the job (its outcome, the exit code); warning: reported and counted apart,
# never changing the outcome (a schema rule of ours, or a value outside a listed enum).
FindingSeverity = Literal["error", "warning"]
# What the warnings of each kind are, as a report explains them in a few words.
WARNING_WORDS: dict[str, str] = {
    "schema": "rules no source states, or values the reference does not list",
    "unmanaged": "jobs discovery found that no list of the manifest names",
    "missed_event": "jobs the service lists that no event named (a lost callback?)",
    "unlisted": "jobs an event named that the service does not list",
}


def warning_words(kinds: Iterable[str]) -> str:
    """The warnings of these kinds, explained in the order of WARNING_WORDS."""
    present = set(kinds)
    return "; ".join(words for kind, words in WARNING_WORDS.items() if kind in present)


def finding_kind(value: Any) -> FindingKind:
    """A kind read back from a file; ValueError for anything that is not one."""
    if value not in get_args(FindingKind):
        raise ValueError(f"{value!r} is not a finding kind")
    return cast(FindingKind, value)


def finding_severity(value: Any) -> FindingSeverity:
    """A severity read back from a file; ValueError for anything that is not one."""
    if value not in get_args(FindingSeverity):
        raise ValueError(f"{value!r} is not a finding severity")
    return cast(FindingSeverity, value)


class Outcome(StrEnum):
    """A job's outcome; `rank` orders them worst first."""

    ERROR = "error"
    NOT_FOUND = "not_found"
    INVALID = "invalid"
    DRIFT = "drift"
    PENDING = "pending"
    WAIVED = "waived"  # finished, and failing only in what live waivers cover: accepted, not passing
    OK = "ok"

    @property
    def rank(self) -> int:
        return list(Outcome).index(self)


@dataclass(frozen=True, slots=True)
class Waived:
    """The accepted exception that covers a finding: why, who owns it, until when (YYYY-MM-DD, UTC)."""

    reason: str
    owner: str | None
    expires: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One thing wrong with a job, in words a person can read."""

    kind: FindingKind
    field: str
    expected: str
    actual: str
    message: str
    severity: FindingSeverity = "error"
    waived: Waived | None = None
    first_seen: str | None = None  # start of the first run of its unbroken streak (UTC), when known

    @property
    def fingerprint(self) -> str:
        """What makes it the same finding from one night to the next (with its job's type and id)."""
        return f"{self.kind}:{self.field}"

    @property
    def counts(self) -> bool:
        """True when the finding weighs on the job's outcome (not a warning, not waived)."""
        return self.severity == "error" and self.waived is None


def outcome_of(findings: Iterable[Finding], terminal: bool) -> Outcome:
    """The outcome findings give a job: the worst kind that counts, else pending, waived (only waived
    findings against it) or ok."""
    findings = tuple(findings)
    kinds = {f.kind for f in findings if f.counts}
    if "error" in kinds:
        return Outcome.ERROR
    if "not_found" in kinds:
        return Outcome.NOT_FOUND
    if "schema" in kinds:
        return Outcome.INVALID
    if kinds:
        return Outcome.DRIFT
    if not terminal:
        return Outcome.PENDING
    return Outcome.WAIVED if any(f.severity == "error" for f in findings) else Outcome.OK
