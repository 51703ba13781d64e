"""`vod-audit run` and `vod-audit import`: resolve settings, start the emulator if asked, report."""

from __future__ import annotations

import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from audit.errors import UserError
from audit.manifest.load import ManifestInvalid, load
from audit.manifest.model import Manifest
from audit.report import FORMAT_NAMES, prepare_folder, write_reports
from audit.results import RunRecord
from audit.run.connection import Connection
from audit.run.pipeline import Settings, execute
from audit.run.progress import Progress
from audit.vod import credentials as credential_chain
from audit.vod import endpoints
from audit.vod.credentials import Credentials

Echo = Callable[[str], None]

DEFAULTS: dict[str, Any] = {
    "out": "reports",
    "format": list(FORMAT_NAMES),
    "region": endpoints.DEFAULT_REGION,
    "endpoint": None,
    "profile": None,
    "signature": "v3",
    "qps": 15.0,
    "concurrency": None,
    "timeout": 10.0,
    "retries": 5,
    "state": None,
    "strict": False,
    "insecure_http": False,
}


def option(flags: dict[str, Any], provider: dict[str, Any], name: str) -> Any:
    """A flag wins over the manifest's provider block, which wins over the default."""
    if flags.get(name) not in (None, ()):
        return flags[name]
    if name in provider:
        return provider[name]
    return DEFAULTS[name]


@contextmanager
def connection(
    flags: dict[str, Any], provider: dict[str, Any], emulator_data: str | None
) -> Iterator[Connection]:
    """Resolves endpoint and credentials; with --emulator, serves it in-process for the duration."""
    qps = float(option(flags, provider, "qps"))
    concurrency = option(flags, provider, "concurrency") or min(64, max(4, math.ceil(qps)))
    common = {
        "signature": option(flags, provider, "signature"),
        "qps": qps,
        "concurrency": int(concurrency),
        "timeout": float(option(flags, provider, "timeout")),
        "retries": int(option(flags, provider, "retries")),
    }
    if emulator_data:
        from audit.emulator.data import load as load_data
        from audit.emulator.server import Emulator, EmulatorConfig

        config = EmulatorConfig(port=0)
        emulator = Emulator(load_data(emulator_data), config).start()
        try:
            # The emulator's own key: real credentials are never sent to it.
            yield Connection(
                endpoints.resolve(endpoint=emulator.url),
                Credentials.of(config.access_key_id, config.access_key_secret, source="emulator"),
                emulator.url,
                **common,
            )
        finally:
            emulator.stop()
        return
    endpoint = endpoints.resolve(
        option(flags, provider, "region"),
        option(flags, provider, "endpoint"),
        bool(option(flags, provider, "insecure_http")),
    )
    found = credential_chain.resolve(option(flags, provider, "profile"))
    yield Connection(endpoint, found, None, **common)


def _load(manifests: tuple[str, ...], err: Echo) -> Manifest:
    try:
        return load(manifests)
    except ManifestInvalid as invalid:
        for problem in invalid.problems:
            err(str(problem))
        count = len(invalid.problems)
        raise UserError(
            f"{count} problem{'s' if count != 1 else ''} in the manifest; nothing was audited"
        ) from None


@contextmanager
def interruptible(err: Echo) -> Iterator[threading.Event]:
    """SIGINT/SIGTERM ask the run to stop; a second SIGINT abandons it at once with 130."""
    stop = threading.Event()

    def handler(signum: int, frame: FrameType | None) -> None:
        if stop.is_set() and signum == signal.SIGINT:
            os._exit(130)
        stop.set()
        err(
            f"vod-audit: {signal.Signals(signum).name}: finishing calls in flight, then writing what was "
            "collected (Ctrl-C again to abandon)"
        )

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run(manifests: tuple[str, ...], flags: dict[str, Any], *, echo: Echo, err: Echo) -> int:
    started = time.monotonic()
    manifest = _load(manifests, err)
    provider = dict(manifest.provider)
    formats = list(dict.fromkeys(option(flags, provider, "format")))
    out = Path(option(flags, provider, "out"))
    state = option(flags, provider, "state")
    first = Path(manifests[0])
    state_path = Path(state) if flags.get("state") else first.parent / (state or ".vod-audit/state.db")
    prepare_folder(out)
    with connection(flags, provider, flags.get("emulator")) as conn, interruptible(err) as stop:
        settings = Settings(
            connection=conn,
            state_path=state_path,
            refresh=bool(flags.get("refresh")),
            strict=bool(option(flags, provider, "strict")),
            targets=tuple(flags.get("target") or ()),
            state_key=f"emulator:{Path(flags['emulator']).resolve()}"
            if flags.get("emulator")
            else conn.endpoint.url,
        )
        stream = sys.stderr
        show = flags.get("progress")
        progress = Progress(
            len(manifest.jobs),
            stream,
            enabled=stream.isatty() if show is None else bool(show),
            live=stream.isatty(),
        )
        try:
            record = execute(manifest, settings, stop=stop, on_result=progress.update)
        finally:
            progress.close()
        written = write_reports(record, out, formats)
    summarise(record, written, time.monotonic() - started, echo)
    return record.exit_code


def summarise(record: RunRecord, written: list[Path], wall: float, echo: Echo) -> None:
    where = (
        f"the embedded emulator at {record.endpoint} (not the real service)"
        if record.emulator
        else record.endpoint
    )
    audited = len(record.results)
    echo(
        f"vod-audit: audited {audited} of {record.planned} jobs against {where}"
        + (" - INCOMPLETE, interrupted" if record.incomplete else "")
    )
    echo("  " + "  ".join(f"{name} {count}" for name, count in record.counts.items()))
    reused = sum(1 for r in record.results if r.from_state)
    echo(
        f"  calls {record.calls}  retries {record.retries}  throttles {record.throttles}  "
        f"from state {reused}  wall {wall:.1f}s"
    )
    for path in written:
        echo(f"  wrote {path}")
    echo(f"verdict: {record.verdict} (exit {record.exit_code})")


def import_command(job_type: str, ids_source: str, flags: dict[str, Any], *, echo: Echo, err: Echo) -> int:
    from audit.run.importer import import_jobs, read_ids

    ids = read_ids(ids_source)
    with connection(flags, {}, flags.get("emulator")) as conn:
        client = conn.client()
        try:
            source = "the embedded emulator" if conn.emulator_url else conn.endpoint.url
            text, code = import_jobs(job_type, ids, conn.fetcher(client), conn.concurrency, source, err)
        finally:
            client.close()
    echo(text.rstrip("\n"))
    return code
