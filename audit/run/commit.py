"""What the state is told of a run once the command has written (or failed to write) its reports."""

from __future__ import annotations

from dataclasses import replace

from audit.results.record import RunRecord
from audit.run.pipeline import Audited
from audit.state.store import Store


def settle(state: Store, audited: Audited, sums: str | None) -> None:
    """The reports are written under a SHA256SUMS of digest `sums`: the next run's evidence names it
    (a chain, night over night), and a complete run becomes what the next one compares to."""
    record = audited.record
    if sums is not None:
        state.reported(audited.run_id, sums)
    if audited.status == "complete":  # an interrupted or failed run is never what the next one compares to
        state.end_run(audited.run_id, record.finished_at, "complete", *_counted(record))
        state.remember(audited.run_id, audited.remembered, record.changes, audited.known, audited.services)


def unreported(state: Store, audited: Audited) -> None:
    """The reports could not be written: the run is kept out of every later comparison."""
    state.end_run(audited.run_id, audited.record.finished_at, "unreported", *_counted(audited.record))


def with_state_error(record: RunRecord, state: Store) -> RunRecord:
    """The record, saying why the state could not be written when it could not."""
    if state.failure is None:
        return record
    unstored = f"{state.unstored} answer{'s' if state.unstored != 1 else ''} not stored"
    return replace(record, state_error=f"{state.where}: {state.failure} ({unstored})")


def _counted(record: RunRecord) -> tuple[dict[str, int], int, int, int]:
    return record.counts, record.calls, record.retries, record.throttles
