"""What a notification says, whatever carries it: verdict and gate, counts, the jobs to act on, the link."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from audit.common.channels import ChannelSpec
from audit.common.findings import Outcome
from audit.results.attention import ActionLine, action_lines
from audit.results.record import RunRecord


@dataclass(frozen=True)
class Message:
    """One run told to one channel (or, with `failure`, a run that could not finish)."""

    title: str
    audit: str
    run_id: str
    started_at: str
    event: str  # the trigger it is sent for: new, findings, failure or always
    verdict: str  # FAIL, INCOMPLETE, ERRORS, EMPTY, PASS, or FAILED (the tool could not finish)
    statement: str  # the jobs' state and the gate's decision, as every report says them
    counts: Mapping[str, int] = field(default_factory=dict)
    changes: Mapping[str, int] = field(default_factory=dict)
    jobs: tuple[ActionLine, ...] = ()
    needing: int = 0  # jobs needing action in all; len(jobs) of them are named
    report_url: str | None = None
    emulator: bool = False
    failure: str | None = None  # why the tool failed, when it did

    @property
    def more(self) -> int:
        return self.needing - len(self.jobs)


def trigger_holds(on: str, run: RunRecord) -> str | None:
    """None when a channel `on` this trigger is told of `run`, else why not (results.json says it)."""
    if on == "always":
        return None
    if on == "new":
        return None if run.new_failing else "no job has new findings"
    if on == "findings":
        return None if run.verdict == "FAIL" else "no job has findings"
    if run.empty and not run.allow_empty:  # an audit of nothing failed to prove anything
        return None
    cut_short = run.incomplete or run.stopped_by or run.state_error
    return None if cut_short or run.counts[Outcome.ERROR.value] else "the run finished, every job answered"


def compose(run: RunRecord, spec: ChannelSpec) -> Message:
    """The message of a finished (or cut short) run for one channel."""
    lines, needing = action_lines(run, spec.max_jobs)
    return Message(
        title=spec.heading(run.audit),
        audit=run.audit,
        run_id=run.run_id,
        started_at=run.started_at,
        event=spec.on,
        verdict=run.verdict,
        statement=run.statement,
        counts=run.counts,
        changes={name: run.changes.get(name, 0) for name in ("new", "ongoing", "resolved")},
        jobs=tuple(lines),
        needing=needing,
        report_url=spec.link(run.run_id, run.audit, run.started_at),
        emulator=run.emulator,
    )


FAILURE_SHOWN = 500  # characters of a failure's reason a message quotes; the console has it whole


def failed_run(spec: ChannelSpec, audit: str, why: str) -> Message:
    """The message of a run the tool could not finish: no run id, no report to link to. The reason is
    cut to FAILURE_SHOWN characters: an API error quoted whole (29 KB) made every platform refuse the
    one message that says the audit broke (Slack's section holds 3,000, Feishu's body 20 KB)."""
    if len(why) > FAILURE_SHOWN:
        why = why[: FAILURE_SHOWN - 1] + "…"
    return Message(
        title=spec.heading(audit),
        audit=audit,
        run_id="",
        started_at="",
        event=spec.on,
        verdict="FAILED",
        statement=f"FAILED: the audit could not finish: {why}",
        failure=why,
    )
