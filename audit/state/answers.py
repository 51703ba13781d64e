"""An answer as kept in state: what checked and judged it, and a final answer's judgement, reused while unchanged."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from audit import __version__
from audit.common.findings import Finding, Outcome
from audit.common.jobtypes import job_type
from audit.common.schemafiles import tool_digest
from audit.expect.engine import Verdict
from audit.manifest.model import JobSpec
from audit.schema.validate import Violation

_KEYS: dict[Any, str] = {}


def judged_with(spec: JobSpec, strict: bool) -> str:
    """What a final answer's judgement depends on, as a digest: the tool's code and schemas, --strict,
    and the job's expectation. A final answer's judgement never depends on the clock (durations of a
    finished job are read from the answer), so while this is unchanged so is the judgement."""
    words = (spec.expect, spec.max_duration, spec.min_duration, strict)
    try:
        return _KEYS[words]
    except KeyError:
        pass
    except TypeError:  # a matcher holding a list cannot key a dict: worked out afresh
        return _digest(words)
    key = _KEYS[words] = _digest(words)  # 100,000 jobs share a handful of expectations
    return key


def _digest(words: Any) -> str:
    return hashlib.sha256(f"{tool_digest()}\0{words!r}".encode()).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class Read:
    """What a result takes from an answer besides the verdict: its RequestId and the job's facets."""

    request_id: str | None
    facets: dict[str, str | None]


def read(spec: JobSpec, body: Any) -> Read:
    """The answer's RequestId and the job's facets (none of either without a body)."""
    kind = job_type(spec.job_type)
    request_id = body.get("RequestId") if isinstance(body, dict) else None
    facets = kind.facet_values(kind.detail(body) if isinstance(body, dict) else None)
    return Read(request_id if isinstance(request_id, str) else None, facets)


def encode(verdict: Verdict, seen: Read) -> str:
    """The judgement as stored: outcome, findings, notes, status, duration, RequestId, facets."""
    return json.dumps(
        [
            verdict.outcome.value,
            [[f.kind, f.field, f.expected, f.actual, f.message, f.severity] for f in verdict.findings],
            [[n.pointer, n.message] for n in verdict.notes],
            verdict.status,
            verdict.duration,
            seen.request_id,
            {name: value for name, value in seen.facets.items() if value is not None},  # a result's default
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def decode(text: str) -> tuple[Verdict, Read]:
    """A judgement as `encode` stored it."""
    outcome, findings, notes, status, duration, request_id, facets = json.loads(text)
    verdict = Verdict(
        Outcome(outcome),
        tuple(Finding(*f) for f in findings),
        tuple(Violation(pointer, message, "note") for pointer, message in notes),
        status,
        duration,
        True,
    )
    return verdict, Read(request_id, facets)


def checked_with(strict: bool) -> str:
    """What a stored answer was validated under: the tool's version, and --strict."""
    return f"{__version__}{' strict' if strict else ''}"


def checks(text: str) -> tuple[Violation, ...]:
    """A stored answer's schema warnings and notes, as `check_notes` kept them."""
    return tuple(Violation(*fields) for fields in json.loads(text))


def check_notes(verdict: Verdict) -> str:
    """An answer's schema warnings and notes, as stored beside it."""
    return json.dumps([[v.pointer, v.message, v.severity, v.rule, v.evidence] for v in verdict.checks])


def is_final(verdict: Verdict) -> bool:
    """Whether an answer needs no asking again: the job ended, and the answer was judged ok or drift."""
    return verdict.terminal and verdict.outcome in (Outcome.OK, Outcome.DRIFT)
