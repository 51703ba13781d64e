"""Sending one prepared message: bounded retries with backoff, Retry-After honoured, every failure a sentence.

A failure never carries the URL (a credential on most platforms) or a library's repr: only the host,
the status and the platform's own words, with any secret withheld.
"""

from __future__ import annotations

import email
import email.message
import smtplib
import socket
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from urllib.parse import SplitResult, unquote, urlsplit

from requests.adapters import HTTPAdapter

from audit import __version__
from audit.notify.channel import Channel, Outgoing, Secrets, answer_code
from audit.vod.keys import redact

ATTEMPTS = 4  # one try and three retries: 1 s, 2 s, 4 s apart unless the platform says when
MAX_WAIT = 30.0  # seconds a Retry-After is honoured up to; a longer one ends the delivery
TIMEOUT = 15.0  # seconds one request may take, answer included


@dataclass(frozen=True)
class Delivery:
    sent: bool
    why: str = ""  # what went wrong, when not sent
    attempts: int = 0


Sleep = Callable[[float], None]


def deliver(
    channel: Channel,
    outgoing: Outgoing,
    secrets: Secrets,
    *,
    adapter: HTTPAdapter | None = None,
    sleep: Sleep = time.sleep,
    timeout: float = TIMEOUT,
    stop: threading.Event | None = None,
) -> Delivery:
    """Sends `outgoing` (HTTP POST, or SMTP for smtp:// and smtps:// URLs) within ATTEMPTS tries; a
    run told to `stop` waits out no pause (a Retry-After) and makes no further try."""
    hidden = tuple(s for s in (secrets.url, secrets.secret, outgoing.url) if s)
    parts = urlsplit(outgoing.url)
    where = parts.hostname or "the channel's host"
    if parts.port:
        where = f"{where}:{parts.port}"
    attempt, why = 0, ""
    while attempt < ATTEMPTS:
        attempt += 1
        if parts.scheme in ("smtp", "smtps"):
            why, retry, wait = _smtp(outgoing, where, timeout)
        else:
            why, retry, wait = _http(channel, outgoing, where, adapter, timeout)
        if not why:
            return Delivery(True, attempts=attempt)
        why = redact(why, hidden)
        if not retry or attempt == ATTEMPTS:
            break
        if wait is not None and wait > MAX_WAIT:
            why += f"; asked to wait {wait:.0f} s, longer than vod-audit waits"
            break
        pause = wait if wait is not None else float(2 ** (attempt - 1))
        if stop is not None and stop.wait(pause):
            why += "; the run was told to stop"
            break
        if stop is None:
            sleep(pause)
    tries = f" ({attempt} attempt{'s' if attempt != 1 else ''})"
    return Delivery(False, why + tries, attempt)


def _http(
    channel: Channel, outgoing: Outgoing, where: str, adapter: HTTPAdapter | None, timeout: float
) -> tuple[str, bool, float | None]:
    """(why it failed or "", whether to try again, seconds the platform asked to wait)."""
    import requests

    from audit.vod.transport import cannot_connect, send

    try:
        reply = send(
            "POST",
            outgoing.url,
            headers={"User-Agent": f"vod-audit/{__version__}", **outgoing.headers},
            data=outgoing.body,
            timeout=timeout,
            adapter=adapter,
            cut=True,  # a receiver's 100 KiB page is an answer: its status says what became of the message
        )
    except (requests.Timeout, TimeoutError):
        return f"no answer from {where} within {timeout:g} s", True, None
    except (requests.RequestException, OSError) as exc:
        return cannot_connect(exc, where)[1], True, None
    if 200 <= reply.status < 300:
        refusal = channel.refused(reply.status, reply.body)
        if refusal is None:
            return "", False, None
        return f"{where} refused the message: {refusal.why}", refusal.retry, None
    # A status and a platform's error code, never the page: a 404 page echoing the request's path
    # would put the URL's token on the console and into the sealed results.json.
    code = answer_code(reply.body)
    answer = f"HTTP {reply.status} from {where}" + (f" (code {code})" if code else "")
    if reply.status == 429 or reply.status >= 500:
        return answer, True, retry_after(reply.headers.get("Retry-After"))
    return answer, False, None


def retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date, RFC 9110 §10.2.3)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # "²" is a digit to Python, and no number to float()
        return float(value)
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - now())
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def _smtp(outgoing: Outgoing, where: str, timeout: float) -> tuple[str, bool, float | None]:
    """One SMTP delivery: STARTTLS (smtp://, refused when the server does not offer it) or implicit
    TLS (smtps://), login when the URL names a user; 4xx replies and lost connections are retried."""
    parts = urlsplit(outgoing.url)
    host = parts.hostname or ""
    context = ssl.create_default_context()
    mail = email.message_from_bytes(outgoing.body)
    from audit.vod.transport import WATCHDOG

    # The timeout bounds each read; the watchdog bounds the whole exchange (a server dripping its
    # greeting a byte a second kept one attempt alive for hours).
    with WATCHDOG.guard(time.monotonic() + timeout) as guard:
        said = _smtp_exchange(outgoing, parts, host, where, timeout, context, mail)
    if guard.expired and said[0]:
        return f"no answer from {where} within {timeout:g} s", True, None
    return said


class _Watched:
    """An SMTP client whose socket the call watchdog shuts at the exchange's deadline."""

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        from audit.vod.transport import WATCHDOG

        sock: socket.socket = super()._get_socket(host, port, timeout)  # type: ignore[misc]  # not in typeshed
        WATCHDOG.attach(sock)
        return sock


class _WatchedSMTP(_Watched, smtplib.SMTP):
    pass


class _WatchedSMTPSSL(_Watched, smtplib.SMTP_SSL):
    pass


def _smtp_exchange(
    outgoing: Outgoing,
    parts: SplitResult,
    host: str,
    where: str,
    timeout: float,
    context: ssl.SSLContext,
    mail: email.message.Message,
) -> tuple[str, bool, float | None]:
    try:
        if parts.scheme == "smtps":
            client: smtplib.SMTP = _WatchedSMTPSSL(host, parts.port or 465, timeout=timeout, context=context)
        else:
            client = _WatchedSMTP(host, parts.port or 587, timeout=timeout)
        with client:
            client.ehlo()
            if parts.scheme == "smtp":
                if not client.has_extn("starttls"):
                    return f"{where} does not offer STARTTLS: vod-audit sends no mail in clear", False, None
                client.starttls(context=context)
                client.ehlo()
            if parts.username:
                client.login(unquote(parts.username), unquote(parts.password or ""))
            client.send_message(mail)
    except smtplib.SMTPResponseException as exc:  # its code: the server's words may echo the login
        return f"{where} answered {exc.smtp_code}", 400 <= exc.smtp_code < 500, None
    except smtplib.SMTPRecipientsRefused as exc:
        return f"{where} refused every recipient ({len(exc.recipients)})", False, None
    except ssl.SSLError as exc:
        return f"TLS with {where} failed ({exc.reason or 'handshake'})", False, None
    except (smtplib.SMTPException, OSError) as exc:
        from audit.vod.transport import cannot_connect

        return cannot_connect(exc, where)[1], True, None
    return "", False, None
