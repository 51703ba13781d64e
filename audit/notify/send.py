"""Which channels hear of a run, their secrets read from the environment or files, and what became of each."""

from __future__ import annotations

import ipaddress
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from functools import partial
from urllib.parse import urlsplit

from requests.adapters import HTTPAdapter

from audit.common.channels import ChannelSpec
from audit.common.files import read_secret
from audit.common.terminal import withhold
from audit.notify import CHANNELS
from audit.notify.channel import Secrets
from audit.notify.deliver import TIMEOUT, Sleep, deliver
from audit.notify.message import Message, compose, failed_run, trigger_holds
from audit.results.parts import NotificationRecord
from audit.results.record import RunRecord


class Unresolved(Exception):
    """A channel's URL or secret cannot be read, or is not one it may be sent to."""


@dataclass(frozen=True)
class Options:
    """How this process notifies: which channels (None: all), whether at all, for real or dry."""

    chosen: Collection[str] | None = None  # --notify NAME...; None: every channel of the manifest
    off: bool = False  # --no-notify
    dry_run: bool = False
    forced: bool = False  # `vod-audit notify --channel`: send whatever the trigger says
    timeout: float = TIMEOUT  # seconds one request may take, answer included


@dataclass(frozen=True)
class Told:
    """A channel's record and, in a dry run, the message it would have had."""

    record: NotificationRecord
    preview: str = ""


def tell_run(
    run: RunRecord,
    specs: Sequence[ChannelSpec],
    options: Options,
    env: Mapping[str, str],
    *,
    adapter: HTTPAdapter | None = None,
    sleep: Sleep = time.sleep,
    now: Callable[[], float] = time.time,
    stop: threading.Event | None = None,
) -> list[Told]:
    """Each channel of `specs` told of `run` when its trigger holds (one message per channel); once
    `stop` is set, no channel waits or tries again."""
    told = []
    for spec in specs:
        off = _not_chosen(spec, options)
        skipped = None if off or options.forced else trigger_holds(spec.on, run)
        if off or skipped:
            told.append(Told(_record(spec, "off" if off else "skipped", off or skipped or "")))
            continue
        message = partial(compose, run, spec)
        told.append(_contained(spec, partial(_send, spec, message, options, env, adapter, sleep, now, stop)))
    return told


def tell_failure(
    specs: Sequence[ChannelSpec],
    audit: str,
    why: str,
    options: Options,
    env: Mapping[str, str],
    *,
    sleep: Sleep = time.sleep,
    now: Callable[[], float] = time.time,
) -> list[Told]:
    """The channels `on: failure` or `always` told that the run could not finish, and why."""
    told = []
    for spec in specs:
        if spec.on not in ("failure", "always") or _not_chosen(spec, options):
            continue
        message = partial(failed_run, spec, audit, why)
        told.append(_contained(spec, partial(_send, spec, message, options, env, None, sleep, now)))
    return told


def _contained(spec: ChannelSpec, tell: Callable[[], Told]) -> Told:
    """What became of one channel, whatever went wrong inside it: a bug in composing or sending its
    message is that channel's `failed` record, never the run's failure. Only the kind of error is
    said: its own words may hold the URL or a secret."""
    try:
        return tell()
    except Exception as exc:
        return Told(
            _record(spec, "failed", f"an internal error in the {spec.type} channel ({type(exc).__name__})")
        )


def _not_chosen(spec: ChannelSpec, options: Options) -> str | None:
    if options.off:
        return "--no-notify"
    if options.chosen is not None and spec.name not in options.chosen:
        return "not chosen by --notify"
    return None


def _record(spec: ChannelSpec, status: str, why: str = "", attempts: int = 0) -> NotificationRecord:
    return NotificationRecord(spec.name, spec.type, spec.on, status, why, attempts)


def _send(
    spec: ChannelSpec,
    compose_message: Callable[[], Message],
    options: Options,
    env: Mapping[str, str],
    adapter: HTTPAdapter | None,
    sleep: Sleep,
    now: Callable[[], float],
    stop: threading.Event | None = None,
) -> Told:
    channel = CHANNELS[spec.type](spec)
    message = compose_message()
    if options.dry_run:
        return Told(_record(spec, "dry-run"), channel.prepare(message, None, now()).preview)
    try:
        secrets = resolve(spec, env)
    except Unresolved as exc:
        return Told(_record(spec, "failed", str(exc)))
    outgoing = channel.prepare(message, secrets, now())
    delivery = deliver(
        channel, outgoing, secrets, adapter=adapter, sleep=sleep, timeout=options.timeout, stop=stop
    )
    return Told(_record(spec, "sent" if delivery.sent else "failed", delivery.why, delivery.attempts))


def resolve(spec: ChannelSpec, env: Mapping[str, str]) -> Secrets:
    """The channel's URL and secret from its variables or files, withheld from every log line from
    now on; Unresolved saying which is missing or why the URL may not be used (never its value)."""
    url = _read(spec.url_env, spec.url_file, env, "URL")
    secret = (
        _read(spec.secret_env, spec.secret_file, env, "secret")
        if spec.secret_env or spec.secret_file
        else None
    )
    if url is None:
        raise Unresolved("no URL: the channel names neither url_env nor url_file")
    parts = urlsplit(url)
    withhold(url, parts.path, parts.query, secret or "")
    try:
        parts.port  # noqa: B018 (read for its check: a port past 65535 raises)
    except ValueError:
        where = "url_env " + spec.url_env if spec.url_env else f"url_file {spec.url_file}"
        raise Unresolved(f"{where} holds a URL whose port is not a number from 0 to 65535") from None
    schemes = ("smtp", "smtps") if spec.type == "email" else ("https", "http")
    if parts.scheme not in schemes or not parts.hostname:
        where = "url_env " + spec.url_env if spec.url_env else f"url_file {spec.url_file}"
        raise Unresolved(f"{where} does not hold a {' or '.join(s + '://' for s in schemes)} URL")
    if parts.scheme == "http" and not _loopback(parts.hostname):
        raise Unresolved(
            f"an http:// URL is only sent to this machine (127.0.0.1, ::1, localhost); {parts.hostname} "
            "would receive the message and its credential in clear: use https://"
        )
    if spec.type == "webhook" and not secret:
        raise Unresolved("a webhook channel signs every message: give secret_env or secret_file")
    return Secrets(url, secret)


def _read(variable: str | None, file: str | None, env: Mapping[str, str], what: str) -> str | None:
    try:
        return read_secret(variable, file, env, f"the channel's {what}")
    except ValueError as exc:
        raise Unresolved(str(exc)) from None


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
