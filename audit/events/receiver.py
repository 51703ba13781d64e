"""`vod-audit receive`'s HTTP server: a VOD callback answered 200 only once its body is durably stored."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST

from audit.events.journal import Journal
from audit.events.signature import refused
from audit.events.tally import Tally
from audit.manifest.sources.events import EVENT_JOBS, job_ids

MAX_BODY = 1 << 20  # bytes of one event body at most
BACKLOG = 1024  # connections waiting to be accepted: VOD and a redelivery burst, never a reset


@dataclass(frozen=True)
class Listening:
    """What the receiver checks deliveries against. The key is held here and nowhere else."""

    callback_url: str
    auth_key: str
    max_skew: float
    journal: Journal
    say: Callable[[str], None]
    tally: Tally
    clock: Callable[[], float] = time.time


class Server(ThreadingHTTPServer):
    """One thread per connection; a stop waits for the deliveries in hand (nothing answered unstored)."""

    request_queue_size = BACKLOG
    daemon_threads = False
    block_on_close = True

    def __init__(self, address: tuple[str, int], listening: Listening) -> None:
        super().__init__(address, Handler)
        self.listening = listening


class Handler(BaseHTTPRequestHandler):
    server: Server
    # One delivery a connection (HTTP/1.0, closed after the answer): no idle keep-alive connection
    # holds a thread, so a stop waits only for deliveries in hand; a client that stalls is dropped.
    protocol_version = "HTTP/1.0"
    timeout = 30

    def log_message(self, format: str, *args: Any) -> None:  # the receiver says each event once itself
        return

    def do_GET(self) -> None:
        if self.path == "/healthz":
            self._answer(200, "ok")
        elif self.path == "/metrics":  # Prometheus scrapes the counts here
            self._answer(200, self.server.listening.tally.exposition(), CONTENT_TYPE_LATEST)
        else:
            self._answer(404, "not found")

    def do_POST(self) -> None:
        listening = self.server.listening
        size = self.headers.get("Content-Length")
        if size is None or not size.isdigit():
            return self._refuse(411, "no Content-Length")
        if int(size) > MAX_BODY:
            return self._refuse(413, f"a body of {int(size):,} bytes, over {MAX_BODY:,}", read=False)
        body = self.rfile.read(int(size))
        signed = {name: self.headers.get(name, "") for name in ("X-VOD-TIMESTAMP", "X-VOD-SIGNATURE")}
        why = refused(
            signed, listening.callback_url, listening.auth_key, listening.clock(), listening.max_skew
        )
        if why is not None:
            return self._refuse(403, why)
        try:
            event = json.loads(body)
        except (ValueError, RecursionError):
            return self._refuse(400, "the body is not JSON")
        if not isinstance(event, dict):
            return self._refuse(400, "the body is not a JSON object")
        try:
            stored = listening.journal.append(event)
        except OSError as exc:
            self.server.listening.tally.count("failed")
            listening.say(f"{named(event)}: not stored ({exc.strerror or exc}): 503, VOD retries")
            return self._answer(503, "not stored")
        self.server.listening.tally.count(stored)
        listening.say(f"{named(event)}: {stored}")
        self._answer(200, "ok")

    def do_PUT(self) -> None:
        self._refuse(405, f"method {self.command}", read=False)

    do_DELETE = do_PATCH = do_PUT

    def _refuse(self, status: int, why: str, *, read: bool = True) -> None:
        self.server.listening.tally.count("refused")
        self.server.listening.say(f"refused ({status}): {why}")  # never the body
        if not read:
            self.close_connection = True
        self._answer(status, "refused")

    def _answer(self, status: int, text: str | bytes, kind: str = "text/plain; charset=utf-8") -> None:
        data = text if isinstance(text, bytes) else (text + "\n").encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


def named(event: dict[str, Any]) -> str:
    """An event in a log line: its type and job ids, escaped (a body is anyone's words)."""
    kind = event.get("EventType")
    source = EVENT_JOBS.get(kind) if isinstance(kind, str) else None
    ids = job_ids(event, source[1], source[2]) if source is not None else []
    return json.dumps(kind if isinstance(kind, str) else None) + (" " + json.dumps(ids) if ids else "")
