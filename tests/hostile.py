"""A hostile GetJobDetail server on 127.0.0.1: it answers each request as a test scripts it, drips,
lies about the job, inflates, or throttles in plain text. Every reply ends within a bounded time."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

LONGEST = 20.0  # no reply of this server lasts longer, whatever it is told


@dataclass(frozen=True)
class Reply:
    """What the server sends back to one request."""

    body: bytes = b""
    status: int = 200
    content_type: str = "application/json;charset=utf-8"
    drip: float | None = None  # seconds between single bytes of the body
    encoding: str | None = None  # a Content-Encoding the body is already in (a gzip bomb)
    claimed: int | None = None  # a Content-Length larger than the body: the answer is cut short


def json_reply(document: Any, **kwargs: Any) -> Reply:
    return Reply(json.dumps(document).encode(), **kwargs)


@contextmanager
def hostile(answer: Callable[[dict[str, str]], Reply]) -> Iterator[str]:
    """Serves `answer(query)` for every request; yields the base URL."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            self.rfile.read(length)
            reply = answer(dict(parse_qsl(urlsplit(self.path).query)))
            payload = reply.body
            self.send_response(reply.status)
            self.send_header("Content-Type", reply.content_type)
            self.send_header("Content-Length", str(reply.claimed or len(payload)))
            if reply.encoding:
                self.send_header("Content-Encoding", reply.encoding)
            self.end_headers()
            if reply.drip is None:
                self.wfile.write(payload)
                self.close_connection = reply.claimed is not None
                return
            ends = time.monotonic() + LONGEST
            for index in range(len(payload)):
                if time.monotonic() > ends:
                    break
                self.wfile.write(payload[index : index + 1])
                self.wfile.flush()
                time.sleep(reply.drip)
            self.close_connection = True

        do_GET = do_POST = _handle

        def log_message(self, *args: object) -> None:
            pass

    class Server(ThreadingHTTPServer):
        daemon_threads = True

        def handle_error(self, request: object, client_address: object) -> None:
            pass  # a client that gave up mid-reply is what several tests arrange

    server = Server(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
