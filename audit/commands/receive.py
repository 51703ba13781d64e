"""`vod-audit receive`: VOD's signed HTTP callbacks, each stored durably before it is answered 200."""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType

from audit.common.errors import ExitStatus, UserError
from audit.common.files import read_secret
from audit.common.terminal import Echo
from audit.common.timeutil import format_utc
from audit.events.journal import Journal
from audit.events.receiver import Listening, Server
from audit.events.tally import Tally


def auth_key(env_name: str | None, key_file: str | None) -> str:
    """The AuthKey from an environment variable or a file, never from the command line."""
    if bool(env_name) == bool(key_file):
        raise UserError("give the AuthKey with --auth-key-env NAME or --auth-key-file PATH (one of them)")
    try:
        value = read_secret(env_name, key_file, os.environ, "the AuthKey")
    except ValueError as exc:
        raise UserError(str(exc)) from None
    assert value is not None
    return value


def open_route(
    route: str, events_dir: str, metrics_file: str | None, err: Echo
) -> tuple[Journal, Tally, Callable[[str], None]]:
    """What `receive` and `consume` both keep: the day files, the counts, and a log line with its time."""
    try:
        journal = Journal(Path(events_dir))
    except OSError as exc:
        raise UserError(f"--events-dir {events_dir}: cannot write there ({exc.strerror or exc})") from None

    def say(line: str) -> None:
        err(f"{format_utc(datetime.now(UTC))} {line}")

    return journal, Tally(route, Path(metrics_file) if metrics_file else None, say=say), say


def execute(
    listen: str,
    events_dir: str,
    callback_url: str,
    key: tuple[str | None, str | None],
    max_skew: float,
    metrics_file: str | None = None,
    *,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    host, _, port = listen.rpartition(":")
    if not host or not port.isdigit():
        raise UserError(f"--listen {listen!r}: HOST:PORT, e.g. 127.0.0.1:8080")
    secret = auth_key(*key)
    journal, tally, say = open_route("http", events_dir, metrics_file, err)
    try:
        server = Server((host, int(port)), Listening(callback_url, secret, max_skew, journal, say, tally))
    except OSError as exc:
        raise UserError(f"cannot listen on {listen}: {exc.strerror or exc}") from None
    echo(f"listening on http://{host}:{server.server_address[1]}")

    def stop(signum: int, frame: FrameType | None) -> None:
        # Stops accepting; the deliveries in hand finish (stored, then answered) before the exit.
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    try:
        server.serve_forever()
    finally:
        server.server_close()  # waits for the handler threads (block_on_close)
        tally.publish()
    say(f"stopped: {tally.summary()}")
    return ExitStatus.OK
