"""The emulator's HTTP plumbing: a threaded server on loopback that carries requests to the VodApi."""

from __future__ import annotations

import json
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from audit.emulator.api import Counters, Reply, VodApi
from audit.emulator.config import EmulatorConfig
from audit.emulator.data import StoredJob
from audit.emulator.gateway import Request
from audit.emulator.queues import Queues

STATS_PATH = "/_emulator/stats"
MAX_BODY = 1 << 20


class Emulator:
    """GetJobDetail on loopback: `start()` serves in the background, `serve()` in the calling thread."""

    def __init__(
        self,
        jobs: Mapping[tuple[str, str], StoredJob],
        config: EmulatorConfig | None = None,
        media: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.config = config or EmulatorConfig()
        self.api = VodApi(jobs, self.config, media)
        self._stopping = threading.Event()
        self._server = _Server((self.config.host, self.config.port), _Handler)
        self._server.api = self.api
        self.queues = Queues(
            [self.config.queue] if self.config.queue else [],
            self.config.queue_visibility,
            self.api.identity.key,
        )
        self._server.queues = self.queues
        self._threads: list[threading.Thread] = []

    @property
    def counters(self) -> Counters:
        return self.api.counters

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> Emulator:
        self._spawn(lambda: self._server.serve_forever(poll_interval=0.05))
        self._start_background_load()
        return self

    def serve(self) -> None:
        """Serves in the calling thread until `stop()` is called from elsewhere."""
        self._start_background_load()
        self._server.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        self._stopping.set()
        self.queues.close()
        self._server.shutdown()
        self._server.server_close()

    def _spawn(self, target: Callable[[], None]) -> None:
        thread = threading.Thread(target=target, daemon=True, name="emulator")
        thread.start()
        self._threads.append(thread)

    def _start_background_load(self) -> None:
        if self.config.background_qps > 0 and self.config.qps > 0:
            self._spawn(self._background_load)

    def _background_load(self) -> None:
        # Other traffic of the same account, spending its quota evenly.
        interval = 1.0 / self.config.background_qps
        next_at = time.monotonic()
        while not self._stopping.is_set():
            admitted = self.api.admit(self.config.access_key_id)
            self.counters.count("background", "ok" if admitted else "throttled")
            next_at += interval
            self._stopping.wait(max(0.0, next_at - time.monotonic()))


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    api: VodApi
    queues: Queues

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (killed, timed out) is routine here, not worth a traceback.
        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without TCP_NODELAY each keep-alive reply waits ~40 ms.
    disable_nagle_algorithm = True
    server: _Server
    server_version = "Tengine"
    sys_version = ""

    def log_message(self, format: str, *args: Any) -> None:  # the CLI prints its own line; tests stay quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:  # the metadata service's IMDSv2 token, the queue's CreateQueue
        self._handle()

    def do_DELETE(self) -> None:  # the queue's DeleteMessage
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._send(Reply(413, {"Code": "RequestEntityTooLarge", "Message": "body too large"}))
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        if split.path == STATS_PATH:
            api = self.server.api
            counts = {"identity": dict(api.identity.counts), "queues": self.server.queues.stats()}
            self._send(Reply(200, {**api.counters.snapshot(), **counts}))
            return
        headers = {k.lower(): v for k, v in self.headers.items()}
        form: dict[str, str] = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded") and body:
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        query = dict(parse_qsl(split.query, keep_blank_values=True))
        request = Request(self.command, split.path or "/", query, form, headers, body)
        if split.path == "/queues" or split.path.startswith("/queues/"):
            answer = self.server.queues.handle(request, self.path)  # the resource as sent: it is signed
            self.send_response(answer.status)
            self.send_header("Content-Type", "text/xml;charset=utf-8")
            self.send_header("Content-Length", str(len(answer.body)))
            self.send_header("x-mns-version", "2015-06-06")
            if answer.location:
                self.send_header("Location", answer.location)
            self.end_headers()
            self.wfile.write(answer.body)
            return
        self._send(self.server.api.handle(request))

    def _send(self, reply: Reply) -> None:
        if reply.transport == "reset":
            # SO_LINGER 0 makes close() send RST: the client sees a reset connection.
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.close_connection = True
            self.connection.close()
            return
        if isinstance(reply.document, str):
            payload, kind = reply.document.encode("utf-8"), "text/plain;charset=utf-8"
        else:  # compact, as the gateway writes its answers
            payload = json.dumps(reply.document, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            kind = "application/json;charset=utf-8"
        if reply.delay:
            time.sleep(reply.delay)
        truncate = reply.transport == "truncate"
        self.send_response(reply.status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(payload)))
        if isinstance(reply.document, dict):
            self.send_header("x-acs-request-id", str(reply.document.get("RequestId", "")))
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2] if truncate else payload)
