"""The `Store` interface every state backend implements, and the stored answer it keeps per job."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from audit.common.errors import UserError
from audit.common.jobtypes import JobRef


class NoState(UserError):
    """A reading command found no state there (no file, an empty one, or no schema)."""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """One job's latest answer as kept in state (a row of `responses`, less the service it came from)."""

    job_type: str
    job_id: str
    body: str  # the body's JSON text
    fetched_at: str
    final: bool  # terminal and schema-valid: no need to ask again
    checked_with: str  # tool version and strictness the body was validated under
    notes: str  # its schema warnings and notes, as JSON
    run_id: str
    canonical: bool = False  # the body is already its compact JSON form
    account: str = ""  # the account UID the answer belongs to; '' when unknown
    judged_with: str = ""  # a final answer's: what judged it (audit.state.answers.judged_with)
    judged: str = ""  # a final answer's judgement, as JSON (audit.state.answers.encode)


# What `state copy` carries from one backend to another: each table's columns, in this order. Runs are
# listed in the order they began.
TABLES: dict[str, tuple[str, ...]] = {
    "responses": (
        "endpoint", "job_type", "job_id", "body", "fetched_at", "final", "checked_with", "notes",
        "run_id", "canonical", "account", "judged_with", "judged",
    ),
    "accounts": ("identity", "account"),
    "runs": (
        "run_id", "started_at", "finished_at", "manifest_digest", "endpoint", "status", "counts",
        "calls", "retries", "throttles", "changes", "sums", "audit",
    ),
    "job_findings": ("audit", "endpoint", "job_type", "job_id", "findings"),
    "run_jobs": ("run_id", "jobs"),
}  # fmt: skip


class Store(Protocol):
    """The audit's memory: answers and their judgements, runs, findings and accounts.

    A backend commits answers in batches (`store` queues, `lookup` and `end_run` see them in), keeps
    runs apart by audit (`begin_run` names it), and records a write it could not make in `failure`
    (with `unstored` answers lost) instead of raising: the run goes on and says so."""

    where: str  # what outputs say of it: a path, or a URL without its password
    failure: str | None
    unstored: int
    audit: str

    def close(self) -> None: ...

    def lookup(
        self, service: str, keys: Iterable[JobRef], account: str | None = None
    ) -> dict[JobRef, StoredAnswer]: ...

    def store(self, service: str, answer: StoredAnswer) -> None: ...

    def account_of(self, identity: str) -> str | None: ...

    def learn_account(self, identity: str, account: str | None) -> None: ...

    def begin_run(
        self, run_id: str, started_at: str, manifest_digest: str, services: str, audit: str
    ) -> None: ...

    def end_run(
        self,
        run_id: str,
        finished_at: str,
        status: str,
        counts: dict[str, int],
        calls: int,
        retries: int,
        throttles: int,
    ) -> None: ...

    def reported(self, run_id: str, sums: str) -> None: ...

    def last_sums(self) -> str | None: ...

    def history(self, audit: str | None = None) -> list[dict[str, object]]: ...

    def last_jobs(self, audit: str) -> set[JobRef] | None: ...

    def previous_findings(self, services: Mapping[JobRef, str]) -> dict[JobRef, dict[str, str]]: ...

    def remember(
        self,
        run_id: str,
        audited: Iterable[tuple[str, str, str, dict[str, str]]],
        changes: Mapping[str, int],
        known: Iterable[JobRef],
        services: Mapping[JobRef, str],
    ) -> None: ...

    def rows(self, table: str) -> list[tuple[object, ...]]: ...  # a TABLES table, in its columns' order

    def put(self, table: str, rows: Sequence[tuple[object, ...]]) -> None: ...  # one transaction


def digest_identity(identity: str) -> str:
    """A source of credentials as kept in state: a digest, so that nothing about it can be read back."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()
