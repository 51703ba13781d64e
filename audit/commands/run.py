"""`vod-audit run`: load the manifests, audit every job, write the reports, print the summary."""

from __future__ import annotations

import gc
import os
import shutil
import signal
import sys
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import closing, contextmanager, suppress
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from audit.calls.connection import open_connections
from audit.commands.embedded import embedded
from audit.commands.manifests import load_or_explain
from audit.commands.sealing import Signing, signer_of, write_set
from audit.common.errors import ExitStatus, UserError
from audit.common.findings import Outcome
from audit.common.locks import FileLatch, Holder, held
from audit.common.terminal import Echo
from audit.common.timeutil import format_utc
from audit.common.where import StateAt
from audit.common.words import counted
from audit.discover.expand import unlisted_media
from audit.discover.required import required_media
from audit.discover.run import discover_all
from audit.discover.walk import listings
from audit.evidence import sshsig
from audit.evidence.sshsig import Signer
from audit.manifest.model import Manifest
from audit.notify.said import check_chosen, record_lines
from audit.notify.send import Options, tell_failure, tell_run
from audit.options import RunOptions, resolve, state_path
from audit.plan.build import build
from audit.plan.routes import routes_of
from audit.report import REPORT_FILES, ReportsNotWritten, prepare_folder
from audit.report.progress import Progress
from audit.results.attention import needing_action
from audit.results.record import RunRecord, waiver_lines
from audit.run.commit import settle, unreported, with_state_error
from audit.run.pipeline import Settings, new_run_id
from audit.run.pipeline import execute as audit
from audit.state.backends import audit_latch, open_store


@contextmanager
def interruptible(err: Echo) -> Iterator[threading.Event]:
    """SIGINT, SIGTERM and SIGHUP (a closed terminal or CI runner) ask the run to stop: calls in flight
    get a short grace, what was collected is written; a second SIGINT abandons it at once with 130."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            os._exit(ExitStatus.ABORTED)
        stop.set()
        err(
            f"vod-audit: {signal.Signals(signum).name}: finishing calls in flight, then writing what was "
            "collected (Ctrl-C again to abandon)"
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def refuse_overlap(state: Path, out: Path, manifests: tuple[str, ...]) -> None:
    """The state must be a file of its own: not in the report folder (which holds one run's reports
    and nothing else), nor a manifest."""
    where = state.resolve()
    if where.parent == out.resolve():
        what = f"{where.name}, a report this run writes" if where.name in REPORT_FILES else "a file"
        raise UserError(
            f"--state {state} is {what} in the report folder {out}, which holds one run's reports "
            "and nothing else; choose another path"
        )
    if any(where == Path(manifest).resolve() for manifest in manifests):
        raise UserError(f"--state {state} is one of the manifests; choose another path")


def execute(
    manifests: tuple[str, ...],
    flags: Mapping[str, Any],
    *,
    signing: Signing = (None, None),
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    with collected_rarely():
        return _execute(manifests, flags, signing, echo, err)


@contextmanager
def collected_rarely() -> Iterator[None]:
    """The collector's passes over 100,000 jobs' records were most of a second of a nightly run
    (bench/FINDINGS.md): young collections are made rarer, and what is alive once the manifest is
    built (it lives as long as the run) is kept out of their sight (`gc.freeze`). Cycles are still
    collected; the process's settings are restored after."""
    before = gc.get_threshold()
    gc.set_threshold(100_000, 50, 50)
    try:
        yield
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)


def _execute(
    manifests: tuple[str, ...], flags: Mapping[str, Any], signing: Signing, echo: Echo, err: Echo
) -> ExitStatus:
    started = time.monotonic()
    signer = signer_of(signing)  # before any call: a key that cannot sign is said at once
    manifest = load_or_explain(manifests, err, cached=True)
    gc.freeze()
    options = resolve(flags, manifest.provider, Path(manifests[0]).parent)
    out = Path(options.out)
    state = state_path(options, manifests)
    options = replace(options, state=state.shown)  # the record says the state actually used
    if state.path is not None:
        refuse_overlap(state.path, out, manifests)
    check_chosen(options.notify, manifest.notify)
    telling = Options(chosen=set(options.notify) if options.notify else None, off=options.no_notify)
    now = datetime.now(UTC)
    run_id = new_run_id(now)
    me = Holder.this_run(run_id, format_utc(now))
    # One run at a time in a report folder and on an audit's state, for the whole run: two at once
    # would both be "the first night", or swap each other's reports away.
    with (
        held(
            FileLatch(folder_lock(out), f"the report folder {out}"),
            me,
            f"the report folder {out}",
            wait=options.wait_lock,
            say=err,
        ),
        held(
            audit_latch(state, manifest.audit, f"the state {state}"),
            me,
            f"the state {state} of audit {manifest.audit!r}",
            wait=options.wait_lock,
            say=err,
        ),
    ):
        return _locked(Invocation(manifest, options, state, out, signer, telling, started, run_id), echo, err)


@dataclass(frozen=True)
class Invocation:
    """One `run`: what it audits and how, where it writes, who signs, and its id."""

    manifest: Manifest
    options: RunOptions
    state: StateAt
    out: Path
    signer: Signer | None
    telling: Options
    started: float  # monotonic
    run_id: str


def folder_lock(out: Path) -> Path:
    """The lock of a report folder: beside it, since the folder holds one run's set and nothing else."""
    where = out.resolve()
    return where.parent / f".{where.name}.vod-audit.lock"


def _locked(run: Invocation, echo: Echo, err: Echo) -> ExitStatus:
    manifest, options, out, signer, telling = run.manifest, run.options, run.out, run.signer, run.telling
    made = prepare_folder(out)
    try:
        record, written = _audit(run, echo, err)
    except Exception as failure:
        # The run could not finish: the channels on failure (or always) hear why, then the caller. A
        # bug's own words stay on this machine's console: the chat hears only what kind it was.
        said = (  # ReportsNotWritten is a UserError: its sentence is ours
            str(failure)
            if isinstance(failure, UserError)
            else f"an internal error ({type(failure).__name__}); the console of the run says more"
        )
        if made:  # a run that wrote nothing leaves no empty report folder behind
            with suppress(OSError):
                out.rmdir()
        told = tell_failure(manifest.notify, manifest.audit, said, telling, os.environ)
        for line in record_lines([t.record for t in told]):
            err(f"vod-audit: {line}")
        _signals(run, None, failure.exit_code if isinstance(failure, UserError) else ExitStatus.ERROR, err)
        raise
    signed = None if signer is None else sshsig.fingerprint(signer.key) or str(signer.key)
    summarise(record, written, time.monotonic() - run.started, echo, terminal_width(), signed)
    code = _verdict_exit(record, options, err)
    _signals(run, record, code, err)
    return code


def _signals(run: Invocation, record: RunRecord | None, code: int, err: Echo) -> None:
    """The run's metrics, where it was told to put them (after its set: they never delay it)."""
    options = run.options
    if not (options.metrics_file or options.pushgateway):
        return
    from audit.metrics.model import Ended
    from audit.metrics.publish import publish

    ended = Ended(run.manifest.audit, time.time(), time.monotonic() - run.started, int(code), record)
    for line in publish(options.metrics_file, options.pushgateway, options.pushgateway_job, ended):
        err(f"vod-audit: warning: {line}")


def _verdict_exit(record: RunRecord, options: RunOptions, err: Echo) -> ExitStatus:
    """The run's exit code: the gate's, unless the state or a strict notification failed."""
    if record.stopped_by:
        err(f"vod-audit: the run stopped early: {record.stopped_by}; what was collected is written")
    if record.state_error:
        said = (
            "the run stopped there: the reports hold what was collected"
            if record.incomplete
            else "the reports are complete"
        )
        err(
            f"vod-audit: the state could not be written: {record.state_error}; {said}, and the next run "
            "asks again for what was not stored"
        )
        return ExitStatus.ERROR
    undelivered = [n for n in record.notifications if n.status == "failed"]
    if undelivered and options.notify_strict:
        err(f"vod-audit: {len(undelivered)} notification(s) not delivered (--notify-strict): exit 1")
        return ExitStatus.ERROR
    return record.exit_code


def _audit(run: Invocation, echo: Echo, err: Echo) -> tuple[RunRecord, list[Path]]:
    """The plan built and executed, the set written, the channels told (and the set written again,
    so that results.json says what became of each), then the run settled in state: the record as
    written, and the files."""
    manifest, options, state, out = run.manifest, run.options, run.state, run.out
    needed = {spec.provider for spec in manifest.jobs} | {q.provider for q in manifest.queries} or {None}
    with (
        interruptible(err) as stop,
        embedded(options.emulator) as fixed,
        open_connections(options, manifest.providers, needed, stop, fixed) as connections,
        closing(open_store(state, on_lost=stop.set)) as store,
    ):
        manifest, found, discovered = discover_all(manifest, connections, stop, unmanaged=options.unmanaged)
        plan = build(
            manifest,
            routes_of(connections),
            store,
            options,
            discovery=[(d.query.provider, d.calls) for d in discovered],
            listed=listings(discovered),
        )
        settings = Settings(
            connections, options, found, unlisted_media(discovered), required_media(discovered)
        )
        stream = sys.stderr
        progress = Progress(
            len(plan.jobs),
            stream,
            enabled=stream.isatty() if options.progress is None else options.progress,
            live=stream.isatty(),
        )
        try:
            audited = audit(
                manifest, plan, settings, store, stop=stop, on_result=progress.update, run_id=run.run_id
            )
        finally:
            progress.close()
        record = with_state_error(audited.record, store)
        try:
            # The set first, whatever the channels do: a receiver that makes the run wait (or a
            # cancelled CI job meanwhile) never costs the night's reports.
            written, sums = write_set(record, out, options.format, run.signer)
        except ReportsNotWritten:
            unreported(store, audited)
            summarise(
                record, [], time.monotonic() - run.started, echo, terminal_width()
            )  # what was found, at least here
            raise
        except BaseException:
            unreported(store, audited)
            raise
        if record.channels:
            told = tuple(
                t.record for t in tell_run(record, record.channels, run.telling, os.environ, stop=stop)
            )
            record = replace(record, notifications=told)
            if not stop.is_set():  # results.json says what became of each channel: the set again, whole
                try:
                    written, sums = write_set(record, out, options.format, run.signer)
                except ReportsNotWritten as failure:
                    err(
                        f"vod-audit: the set stands as first written, without what became of the channels: {failure}"
                    )
        settle(store, audited, sums)
        return with_state_error(record, store), written


def summarise(
    record: RunRecord,
    written: list[Path],
    wall: float,
    echo: Echo,
    width: int | None = None,
    signed_by: str | None = None,
) -> None:
    """The run on the console; a job's message is cut to a terminal's `width`, never in a file or pipe."""
    where = (
        f"the embedded emulator at {record.endpoint} (not the real service)"
        if record.emulator
        else record.endpoint
    )
    # Audited means answered: a job whose every call failed was not audited, it is an error.
    unanswered = record.counts[Outcome.ERROR.value]
    echo(
        f"vod-audit: audited {len(record.results) - unanswered} of {counted(record.planned, 'job')} against {where}"
        + (f" ({unanswered} without an answer)" if unanswered else "")
        + (" - INCOMPLETE, interrupted" if record.incomplete else "")
    )
    counts = "  ".join(f"{name} {count}" for name, count in record.counts.items())
    echo(f"  {counts}  warnings {record.warnings}  findings waived {record.waived}")
    changes = record.changes
    echo(
        f"  new {changes.get('new', 0)}  resolved {changes.get('resolved', 0)}  ongoing {changes.get('ongoing', 0)}"
    )
    reused = sum(1 for r in record.results if r.from_state)
    echo(
        f"  calls {record.calls}  retries {record.retries}  throttles {record.throttles}  "
        f"from state {reused}  wall {wall:.1f}s"
    )
    for found in record.discovery:
        calls = ", ".join(f"{operation} {count}" for operation, count in found.calls.items())
        echo(
            f"  discovery {found.source} ({found.provider}, {found.window}): {found.media} media, "
            f"{counted(found.jobs, 'job')} listed, {found.added} named by no list; calls {calls or 'none'}"
            + (f"; {counted(len(found.notes), 'note')} on the answers" if found.notes else "")
        )
    if len(record.providers) > 1:
        for lane in record.providers:
            echo(
                f"  provider {lane.provider}: {lane.jobs} jobs, calls {lane.calls}  retries "
                f"{lane.retries}  throttles {lane.throttles}  ({lane.endpoint}, {lane.access_key_id})"
            )
    for line in waiver_lines(record):
        echo(f"  {line}")
    listed = needing_action(record)
    if listed:
        # Like a plan's diff: the jobs to act on by name, new first, before any file name.
        echo(f"  needs action ({len(listed)}):")
        for result in listed[:SHOWN]:
            said = result.counted[0].message if result.counted else result.outcome.value
            change = "new" if result.change in (None, "new") else result.change
            line = f"    {change:<8} {result.outcome.value:<9} {result.job_type} {result.job_id}  "
            echo(line + _short(said, None if width is None else max(20, width - len(line))))
        if len(listed) > SHOWN:
            echo(f"    and {len(listed) - SHOWN} more")
    for line in record_lines(record.notifications):
        echo(f"  {line}")
    report = next((path for path in written if path.name == "report.html"), written[0] if written else None)
    if report is not None:
        others = len(written) - 1
        sealed = "sealed" if signed_by is None else f"sealed and signed by {signed_by}"
        echo(f"  report: {report} (and {counted(others, 'more file')} in {report.parent}, {sealed})")
    echo(f"verdict: {record.statement}")


SHOWN = 10  # jobs named on the console; the reports name every one


def _short(text: str, width: int | None) -> str:
    return text if width is None or len(text) <= width else text[: width - 1] + "…"


def terminal_width() -> int | None:
    """The width of the terminal standard output is, None when it is a file or a pipe."""
    return shutil.get_terminal_size().columns if sys.stdout.isatty() else None
