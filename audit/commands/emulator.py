"""`vod-audit emulator`: load or generate jobs, serve until SIGINT or SIGTERM."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import Any

from audit.common.atomic import write_atomic
from audit.common.errors import ExitStatus, UserError
from audit.common.terminal import Echo
from audit.emulator.callbacks import deliver_all, enqueue_all
from audit.emulator.config import FAULTS, EmulatorConfig
from audit.emulator.data import Data, index, read_data_file
from audit.emulator.generate import generate
from audit.emulator.server import Emulator


def build_jobs(data: str | None, count: int, seed: int) -> Data:
    """The data file's jobs (and media) plus `count` generated jobs; a clash between them is an error."""
    found = read_data_file(data) if data else Data({})
    jobs = found.jobs
    if count:
        generated = index(generate(count, seed), f"--jobs {count} --seed {seed}")
        clash = jobs.keys() & generated.keys()
        if clash:
            raise UserError(f"generated job {sorted(clash)[0]} clashes with {data}")
        jobs.update(generated)
    return found


def fault_kinds(text: str) -> tuple[str, ...]:
    """`--faults internal,reset` as a tuple; UserError naming any unknown kind."""
    kinds = tuple(kind.strip() for kind in text.split(",") if kind.strip())
    unknown = sorted(set(kinds) - set(FAULTS))
    if unknown or not kinds:
        raise UserError(
            f"--faults: unknown fault kind {', '.join(unknown) or '(none)'}; choose from {', '.join(FAULTS)}"
        )
    return kinds


def account_keys(values: tuple[str, ...]) -> tuple[tuple[str, str, str | None], ...]:
    """`--account ID:SECRET[:TOKEN]` values as (id, secret, token); UserError for a malformed one."""
    parsed = []
    for value in values:
        parts = value.split(":")
        if len(parts) not in (2, 3) or not all(parts):
            raise UserError("--account must be ID:SECRET or ID:SECRET:TOKEN (the value is not shown)")
        parsed.append((parts[0], parts[1], parts[2] if len(parts) == 3 else None))
    return tuple(parsed)


def write_job_list(jobs: Mapping[tuple[str, str], Any], path: Path) -> None:
    """The served jobs as a CSV job list (`id,type`), atomically: what a manifest of them starts from."""
    rows = "".join(
        f"{csv_cell(job_id)},{job_type}\n" for job_type, job_id in sorted(jobs, key=lambda k: (k[0], k[1]))
    )
    try:
        write_atomic(path, "id,type\n" + rows)
    except OSError as exc:
        raise UserError(f"--jobs-csv {path}: cannot write it: {exc.strerror or exc}") from None


def csv_cell(text: str) -> str:
    """A CSV cell: quoted when it holds a comma, quote or line break (ids of a data file may)."""
    return '"' + text.replace('"', '""') + '"' if any(c in text for c in ',"\r\n') else text


def execute(flags: Mapping[str, Any], *, echo: Echo, err: Echo) -> ExitStatus:
    settings = dict(flags)
    data, count, seed = settings.pop("data"), settings.pop("count"), settings["seed"]
    listing = settings.pop("jobs_csv")
    callback, key_env = settings.pop("callback_url"), settings.pop("auth_key_env")
    encoded = settings.pop("queue_base64")
    if callback and not (key_env and os.environ.get(key_env)):
        raise UserError(
            "--callback-url needs --auth-key-env NAME, a variable holding the AuthKey it signs with"
        )
    if not data and not count:
        raise UserError("give --data FILE, --jobs N, or both")
    config = EmulatorConfig(
        faults=fault_kinds(settings.pop("faults")),
        failing_jobs=frozenset(settings.pop("fail_jobs")),
        failing_media=frozenset(settings.pop("fail_media")),
        accounts=account_keys(settings.pop("accounts")),
        **settings,
    )
    served = build_jobs(data, count, seed)
    jobs = served.jobs
    if listing:
        write_job_list(jobs, Path(listing))
        err(f"wrote {len(jobs)} jobs to {listing} (a manifest reads it with jobs_from: [{{csv: {listing}}}])")
    try:
        emulator = Emulator(jobs, config, served.media)
    except OSError as exc:
        raise UserError(f"cannot listen on {config.host}:{config.port}: {exc.strerror}") from None
    echo(f"listening on {emulator.url}")
    echo(
        f"{len(jobs)} jobs; AccessKey {', '.join([config.access_key_id, *(a[0] for a in config.accounts)])}; qps {config.qps:g}; started {datetime.now(UTC):%Y-%m-%dT%H:%M:%SZ}"
    )

    if config.queue:
        put = enqueue_all(emulator.queues, config.queue, jobs.values(), encoded)
        err(f"queue {config.queue}: {put} events put (as VOD writes them)")
    if callback:
        key = os.environ[str(key_env)]

        def call_back() -> None:
            sent = deliver_all(callback, key, jobs.values(), say=err)
            err(f"callbacks to {callback}: {sent['delivered']} delivered, {sent['undelivered']} not")

        threading.Thread(target=call_back, name="callbacks", daemon=True).start()

    def stop(signum: int, frame: FrameType | None) -> None:
        threading.Thread(target=emulator.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    emulator.serve()
    echo("stopped")
    return ExitStatus.OK
