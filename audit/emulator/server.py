"""The emulator's threaded HTTP server: gateway checks, per-AccessKey quota, faults and counters."""

from __future__ import annotations

import json
import random
import socket
import struct
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal
from urllib.parse import parse_qsl, urlsplit

from audit.emulator.data import StoredJob
from audit.emulator.gateway import Gateway, Refusal, Request
from audit.schema.store import JOB_TYPES

FAULTS = ("internal", "unavailable", "reset", "truncated", "slow")
STATS_PATH = "/_emulator/stats"
MAX_BODY = 1 << 20


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything `vod-audit emulator` takes as flags (SPEC §8)."""

    host: str = "127.0.0.1"
    port: int = 0
    access_key_id: str = "emulator-ak"
    access_key_secret: str = field(default="emulator-secret", repr=False)
    security_token: str | None = field(default=None, repr=False)
    qps: float = 15.0
    background_qps: float = 0.0
    latency_ms: float = 0.0
    latency_jitter_ms: float | None = None  # default: a third of latency_ms
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    unknown_job: Literal["empty", "error"] = "empty"
    max_age_days: float = 183.0
    slow_seconds: float = 30.0
    seed: int | None = None
    failing_jobs: frozenset[str] = frozenset()  # JobIds every call for which fails with InternalError


class Quota:
    """Requests accepted per AccessKey in any one-second window, as the gateway's flow control."""

    def __init__(self, qps: float) -> None:
        self._limit = int(qps) if qps >= 1 else (1 if qps > 0 else 0)
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, access_key_id: str, now: float) -> bool:
        if not self._limit:
            return True
        with self._lock:
            window = self._windows.setdefault(access_key_id, deque())
            while window and now - window[0] >= 1.0:
                window.popleft()
            if len(window) >= self._limit:
                return False
            window.append(now)
            return True


class Counters:
    """Request counts by AccessKey and outcome, and how often each job was answered."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.by_outcome: Counter[tuple[str, str]] = Counter()
        self.by_job: Counter[tuple[str, str]] = Counter()
        self.first_at: float | None = None  # wall clock of the first and last authenticated request
        self.last_at: float | None = None

    def count(self, access_key_id: str, outcome: str, job: tuple[str, str] | None = None) -> None:
        now = time.time()
        with self._lock:
            self.by_outcome[(access_key_id, outcome)] += 1
            if job is not None:
                self.by_job[job] += 1
            if access_key_id not in ("background", "unauthenticated"):
                self.first_at = now if self.first_at is None else self.first_at
                self.last_at = now

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            outcomes: Counter[str] = Counter()
            keys: dict[str, dict[str, int]] = {}
            for (key, outcome), n in self.by_outcome.items():
                outcomes[outcome] += n
                keys.setdefault(key, {})[outcome] = n
            return {
                "total": sum(n for (key, _), n in self.by_outcome.items() if key != "background"),
                "by_outcome": dict(outcomes),
                "by_access_key": keys,
                "jobs_answered": {f"{t}/{i}": n for (t, i), n in self.by_job.items()},
                "first_at": self.first_at,
                "last_at": self.last_at,
            }


def _request_id(rng: random.Random) -> str:
    raw = uuid.UUID(int=rng.getrandbits(128)).hex.upper()
    return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"


class Emulator:
    """GetJobDetail on loopback. Use as a context manager, or `start()` / `stop()`."""

    def __init__(
        self, jobs: Mapping[tuple[str, str], StoredJob], config: EmulatorConfig | None = None
    ) -> None:
        self.config = config or EmulatorConfig()
        self.jobs = dict(jobs)
        self.counters = Counters()
        self.gateway = Gateway(
            {self.config.access_key_id: (self.config.access_key_secret, self.config.security_token)}
        )
        self._quota = Quota(self.config.qps)
        self._rng = random.Random(self.config.seed)
        self._rng_lock = threading.Lock()
        self._stopping = threading.Event()
        self._server = _Server((self.config.host, self.config.port), _Handler)
        self._server.emulator = self
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Emulator:
        self._spawn(lambda: self._server.serve_forever(poll_interval=0.05))
        if self.config.background_qps > 0 and self.config.qps > 0:
            self._spawn(self._background_load)
        return self

    def serve(self) -> None:
        """Serves in the calling thread until `stop()` is called from elsewhere."""
        if self.config.background_qps > 0 and self.config.qps > 0:
            self._spawn(self._background_load)
        self._server.serve_forever(poll_interval=0.1)

    def stop(self) -> None:
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _spawn(self, target: Any) -> None:
        thread = threading.Thread(target=target, daemon=True, name="emulator")
        thread.start()
        self._threads.append(thread)

    def _background_load(self) -> None:
        # Other traffic of the same account, spending its quota evenly.
        interval = 1.0 / self.config.background_qps
        next_at = time.monotonic()
        while not self._stopping.is_set():
            admitted = self._quota.admit(self.config.access_key_id, time.monotonic())
            self.counters.count("background", "ok" if admitted else "throttled")
            next_at += interval
            self._stopping.wait(max(0.0, next_at - time.monotonic()))

    def random(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def choice(self, options: tuple[str, ...]) -> str:
        with self._rng_lock:
            return self._rng.choice(options)

    def request_id(self) -> str:
        with self._rng_lock:
            return _request_id(self._rng)

    def latency(self) -> float:
        base = self.config.latency_ms
        if base <= 0:
            return 0.0
        jitter = base / 3 if self.config.latency_jitter_ms is None else self.config.latency_jitter_ms
        with self._rng_lock:
            return max(0.0, base + self._rng.uniform(-jitter, jitter)) / 1000

    def admit(self, access_key_id: str) -> bool:
        return self._quota.admit(access_key_id, time.monotonic())

    def lookup(self, job_type: str, job_id: str) -> StoredJob | None:
        job = self.jobs.get((job_type, job_id))
        if job is None:
            return None
        if job.create_time and datetime.now(UTC) - job.create_time > timedelta(days=self.config.max_age_days):
            return None  # the API only sees the last six months
        return job


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 256
    emulator: Emulator

    def handle_error(self, request: Any, client_address: Any) -> None:
        # A client that went away (killed, timed out) is routine here, not worth a traceback.
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError | TimeoutError):
            super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave in two writes; without TCP_NODELAY each keep-alive reply waits ~40 ms.
    disable_nagle_algorithm = True
    server: _Server
    server_version = "Tengine"
    sys_version = ""

    def log_message(self, *args: object) -> None:  # the CLI prints its own line; tests stay quiet
        pass

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def _reply(
        self, status: int, document: dict[str, Any], *, truncate: bool = False, delay: float = 0.0
    ) -> None:
        payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
        if delay:
            time.sleep(delay)
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=utf-8")
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("x-acs-request-id", str(document.get("RequestId", "")))
        if truncate:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(payload[: len(payload) // 2] if truncate else payload)

    def _error_document(self, code: str, message: str, request_id: str) -> dict[str, Any]:
        return {
            "RequestId": request_id,
            "HostId": self.headers.get("Host", "vod.cn-shanghai.aliyuncs.com"),
            "Code": code,
            "Message": message,
            "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=vod&requestId={request_id}",
        }

    def _error(self, status: int, code: str, message: str, request_id: str, delay: float) -> None:
        self._reply(status, self._error_document(code, message, request_id), delay=delay)

    def _reset(self) -> None:
        # SO_LINGER 0 makes close() send RST: the client sees a reset connection.
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True
        self.connection.close()

    def _handle(self) -> None:
        emulator = self.server.emulator
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY:
            self.close_connection = True
            self._reply(413, {"Code": "RequestEntityTooLarge", "Message": "body too large"})
            return
        body = self.rfile.read(length) if length else b""
        split = urlsplit(self.path)
        if split.path == STATS_PATH:
            self._reply(200, emulator.counters.snapshot())
            return
        request_id = emulator.request_id()
        delay = emulator.latency()
        headers = {k.lower(): v for k, v in self.headers.items()}
        form: dict[str, str] = {}
        if headers.get("content-type", "").startswith("application/x-www-form-urlencoded") and body:
            form = dict(parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        request = Request(
            self.command,
            split.path or "/",
            dict(parse_qsl(split.query, keep_blank_values=True)),
            form,
            headers,
            body,
        )
        try:
            caller = emulator.gateway.authenticate(request)
        except Refusal as refusal:
            emulator.counters.count("unauthenticated", refusal.code)
            self._error(refusal.status, refusal.code, refusal.message, request_id, delay)
            return
        key = caller.access_key_id
        if not emulator.admit(key):
            emulator.counters.count(key, "Throttling.User")
            self._error(
                400, "Throttling.User", "Request was denied due to user flow control.", request_id, delay
            )
            return
        if caller.params.get("JobId") in emulator.config.failing_jobs:
            self._fault("internal", request_id, delay, caller.params)
            return
        if emulator.config.fault_rate > 0 and emulator.random() < emulator.config.fault_rate:
            self._fault(emulator.choice(emulator.config.faults), request_id, delay, caller.params)
            return
        self._answer(caller.params, key, request_id, delay)

    def _fault(self, kind: str, request_id: str, delay: float, params: Mapping[str, str]) -> None:
        emulator = self.server.emulator
        emulator.counters.count(emulator.config.access_key_id, f"fault_{kind}")
        if kind == "internal":
            self._error(
                500,
                "InternalError",
                "The request processing has failed due to some unknown error.",
                request_id,
                delay,
            )
        elif kind == "unavailable":
            self._error(
                503,
                "ServiceUnAvailable",
                "The request has failed due to a temporary failure of the server.",
                request_id,
                delay,
            )
        elif kind == "reset":
            self._reset()
        elif kind == "truncated":
            self._reply(
                200,
                {"RequestId": request_id, "JobType": params.get("JobType", "transcode"), "Padding": "x" * 64},
                truncate=True,
                delay=delay,
            )
        else:  # slow: answer correctly, but only after the client has given up (counted as the fault)
            time.sleep(emulator.config.slow_seconds)
            status, document, _, _ = self._response(params, request_id)
            self._reply(status, document)

    def _answer(self, params: Mapping[str, str], key: str, request_id: str, delay: float) -> None:
        status, document, outcome, job = self._response(params, request_id)
        self.server.emulator.counters.count(key, outcome, job)
        self._reply(status, document, delay=delay)

    def _response(
        self, params: Mapping[str, str], request_id: str
    ) -> tuple[int, dict[str, Any], str, tuple[str, str] | None]:
        """(status, body, outcome for the counters, job answered) of an authenticated request."""
        emulator = self.server.emulator
        job_id, job_type = params.get("JobId"), params.get("JobType")
        for name, value in (("JobId", job_id), ("JobType", job_type)):
            if not value:
                message = f"The input parameter {name} that is mandatory for processing this request is not supplied."
                return (
                    400,
                    self._error_document("MissingParameter", message, request_id),
                    "MissingParameter",
                    None,
                )
        assert job_id is not None and job_type is not None
        if job_type not in JOB_TYPES:
            message = f"The specified parameter JobType is not valid. ({job_type})"
            return (
                400,
                self._error_document("InvalidParameter", message, request_id),
                "InvalidParameter",
                None,
            )
        job = emulator.lookup(job_type, job_id)
        if job is None:
            if emulator.config.unknown_job == "error":
                message = "The specified parameter JobId is not valid."
                document = self._error_document("InvalidParameter", message, request_id)
                return 400, document, "not_found", (job_type, job_id)
            return 200, {"RequestId": request_id, "JobType": job_type}, "not_found", (job_type, job_id)
        return 200, {"RequestId": request_id, **job.body}, "ok", (job_type, job_id)
