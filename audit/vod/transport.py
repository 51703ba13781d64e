"""Bounded HTTP: every call ends by its deadline and reads at most a fixed number of decoded bytes.

requests' own timeout is per socket read, so a server that drips one byte every half second keeps
a call alive forever; a compressed body can inflate a thousandfold. Here one watchdog thread shuts
the socket of any call past its deadline (wherever the call is blocked: headers or body), and the
body is read and decompressed in bounded steps.
"""

from __future__ import annotations

import contextlib
import errno
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any, NamedTuple

from requests import PreparedRequest, Response
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import ConnectionPool, HTTPConnectionPool, HTTPSConnectionPool

STOP_LOOK = 0.1  # seconds between the watchdog's looks at a run's stop event while calls may run
MAX_BODY = 4 << 20  # decoded bytes of one answer; a GetJobDetail body is a few KiB
_CHUNK = 64 << 10


class BodyTooLarge(Exception):
    """The answer decodes to more than MAX_BODY bytes."""


class NoAnswer(OSError):
    """A request outside the job calls got no usable answer: cut short, or too large."""


class Guard:
    """One call's deadline, and the socket the watchdog shuts once it passes."""

    __slots__ = ("deadline", "expired", "sock")

    def __init__(self, deadline: float) -> None:
        self.deadline = deadline
        self.expired = False
        self.sock: socket.socket | None = None

    def expire(self) -> None:
        self.expired = True
        if self.sock is not None:
            with contextlib.suppress(OSError):  # already closed: the call has ended anyway
                self.sock.shutdown(socket.SHUT_RDWR)


class Watchdog:
    """Shuts the sockets of calls past their deadline, from one daemon thread shared by all clients."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._guards: set[Guard] = set()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._local = threading.local()
        self._next_wake = 0.0  # when the thread wakes next by itself (under _lock)
        self._stops: list[_Stop] = []  # runs that end their calls a grace period after a stop

    def _started(self) -> None:
        """Starts the thread on first use (under _lock)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="call-deadlines", daemon=True)
            self._thread.start()

    @contextmanager
    def cut_off(self, stop: threading.Event, grace: float) -> Iterator[None]:
        """While the block runs, once `stop` has been set for `grace` seconds every call in flight ends,
        and every call made after: a run told to stop does so within seconds whatever the server does,
        whichever thread is inside a call (the consumer may be one)."""
        entry = _Stop(stop, grace)
        with self._lock:
            self._stops.append(entry)
            self._started()
            self._wake.set()
        try:
            yield
        finally:
            with self._lock:
                self._stops.remove(entry)

    @contextmanager
    def guard(self, deadline: float) -> Iterator[Guard]:
        """Watches the calling thread's call until the block ends."""
        guard = Guard(deadline)
        with self._lock:
            self._guards.add(guard)
            self._started()
            # Woken only for a deadline before its next wake-up: calls start with deadlines a timeout
            # ahead, nearly always later, and waking the thread on every call cost a tenth of a run's CPU.
            if deadline < self._next_wake:
                self._wake.set()
        self._local.guard = guard
        try:
            yield guard
        finally:
            self._local.guard = None
            with self._lock:
                self._guards.discard(guard)

    def attach(self, sock: socket.socket | None) -> None:
        """Called by the connection about to send: the socket the current call's guard may shut."""
        guard: Guard | None = getattr(self._local, "guard", None)
        if guard is not None and sock is not None:
            guard.sock = sock
            if guard.expired:
                guard.expire()

    def expire_all(self) -> None:
        """Ends every call in flight now (a run told to stop, past its grace period)."""
        with self._lock:
            for guard in self._guards:
                guard.expire()

    def _run(self) -> None:
        while True:
            # Cleared before looking, so that a guard added meanwhile wakes the next wait at once.
            self._wake.clear()
            now = time.monotonic()
            with self._lock:
                cut = any(entry.past(now) for entry in self._stops)
                for guard in self._guards:
                    if not guard.expired and (cut or guard.deadline <= now):
                        guard.expire()
                pending = [g.deadline for g in self._guards if not g.expired]
                wait = max(0.01, min(pending) - now) if pending else 1.0
                if self._stops:  # a stop is looked for as often as the consumer used to look
                    wait = min(wait, STOP_LOOK)
                self._next_wake = now + wait
            self._wake.wait(wait)


class _Stop:
    """A run's stop event, its grace, and since when the watchdog has seen it set."""

    __slots__ = ("grace", "seen", "stop")

    def __init__(self, stop: threading.Event, grace: float) -> None:
        self.stop, self.grace = stop, grace
        self.seen: float | None = None

    def past(self, now: float) -> bool:
        if not self.stop.is_set():
            return False
        if self.seen is None:
            self.seen = now
        return now - self.seen >= self.grace


WATCHDOG = Watchdog()


class _Guarded(HTTPConnection):
    """Connects before sending, so that the watchdog knows the socket of the call in this thread."""

    def request(self, *args: Any, **kwargs: Any) -> None:
        if self.sock is None:
            self.connect()
        WATCHDOG.attach(self.sock)
        super().request(*args, **kwargs)


class _GuardedHTTPConnection(_Guarded):
    pass


class _GuardedHTTPSConnection(_Guarded, HTTPSConnection):
    pass


class _GuardedHTTPPool(HTTPConnectionPool):
    ConnectionCls = _GuardedHTTPConnection


class _GuardedHTTPSPool(HTTPSConnectionPool):
    ConnectionCls = _GuardedHTTPSConnection


class BoundedAdapter(HTTPAdapter):
    """requests' transport adapter whose connections report their sockets to the watchdog.

    Its requests never go through a proxy and carry no cookies (a signed call has no use for either,
    and no `Session` merges them in), so the per-call machinery for both is left out: the pool of an
    origin is looked up once, the path is cut from the URL, and the answer's headers are not copied
    and not read for cookies. Together that was a quarter of a call's CPU (bench/FINDINGS.md).
    """

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _GuardedHTTPPool, "https": _GuardedHTTPSPool}
        self._pools: dict[str, ConnectionPool] = {}

    def get_connection_with_tls_context(
        self, request: PreparedRequest, verify: Any, proxies: Any = None, cert: Any = None
    ) -> ConnectionPool:
        if proxies or verify is not True or cert is not None:  # not a call of ours: requests' lookup
            return super().get_connection_with_tls_context(request, verify, proxies, cert)
        origin = _origin(request.url or "")
        pool = self._pools.get(origin)
        # Not seen yet, or closed since (the pool manager keeps one origin's pool and closes the rest).
        if pool is None or getattr(pool, "pool", None) is None:
            pool = self._pools[origin] = super().get_connection_with_tls_context(request, verify)
        return pool

    def request_url(self, request: PreparedRequest, proxies: Any) -> str:
        if proxies:
            return super().request_url(request, proxies)
        url = request.url or ""
        path = url[len(_origin(url)) :]
        return path if path.startswith("/") else f"/{path}"

    def build_response(self, req: PreparedRequest, resp: Any) -> Response:
        response = Response()
        response.status_code = resp.status
        response.headers = resp.headers  # urllib3's headers are case-insensitive already
        response.raw = resp
        response.reason = resp.reason
        response.url = req.url or ""
        response.request = req
        response.connection = self
        return response

    def close(self) -> None:
        self._pools.clear()
        super().close()


def _origin(url: str) -> str:
    """`scheme://host:port` of an absolute URL: everything before its path."""
    start = url.find("//") + 2
    end = url.find("/", start)
    query = url.find("?", start)
    ends = [i for i in (end, query) if i >= 0]
    return url[: min(ends)] if ends else url


def _decoder(encoding: str) -> Any:
    """A zlib decompressor for the Content-Encoding, None for identity; ValueError for any other."""
    name = encoding.strip().lower()
    if name in ("", "identity"):
        return None
    if name in ("gzip", "x-gzip"):
        return zlib.decompressobj(16 + zlib.MAX_WBITS)
    if name == "deflate":
        return zlib.decompressobj(32 + zlib.MAX_WBITS)  # zlib or gzip header, detected
    raise ValueError(f"unsupported Content-Encoding {encoding!r}")


def _size(limit: int) -> str:
    return f"{limit >> 20} MiB" if limit >= 1 << 20 else f"{limit >> 10} KiB"


def read_body(response: Any, deadline: float, limit: int = MAX_BODY, cut: bool = False) -> bytes:
    """The decoded body of a streamed response; BodyTooLarge past `limit` (with `cut`, its first
    `limit` bytes instead), TimeoutError past `deadline`."""
    decoder = _decoder(response.headers.get("Content-Encoding", ""))
    body = bytearray()

    def full(data: bytes) -> bool:
        body.extend(data)
        if len(body) <= limit:
            return False
        if not cut:
            raise BodyTooLarge(f"the answer decodes to more than {_size(limit)}")
        del body[limit:]
        return True

    while chunk := response.raw.read1(_CHUNK, decode_content=False):
        if time.monotonic() > deadline:
            raise TimeoutError("the answer did not arrive in time")
        if decoder is None:
            if full(chunk):
                break
            continue
        if full(decoder.decompress(chunk, limit + 1 - len(body))):
            break
        while decoder.unconsumed_tail:
            if full(decoder.decompress(decoder.unconsumed_tail, limit + 1 - len(body))):
                return bytes(body)
    else:
        if decoder is not None:
            full(decoder.flush())
    return bytes(body)


class Reply(NamedTuple):
    """An answer to a request outside the job calls: its status, headers and decoded body."""

    status: int
    headers: Mapping[str, str]
    body: bytes


def exchange(
    method: str,
    url: str,
    *,
    headers: dict[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 10.0,
    limit: int = 64 << 10,
) -> tuple[int, bytes]:
    """One bounded request outside the job calls (STS, a credentials URI, instance metadata):
    (status, body), over in `timeout` seconds. Whatever prevents an answer (refused, reset, cut short,
    too large, too slow) raises an OSError or a `requests` exception, never anything else."""
    reply = send(method, url, headers=headers, data=data, timeout=timeout, limit=limit)
    return reply.status, reply.body


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    data: bytes | None = None,
    timeout: float = 10.0,
    limit: int = 64 << 10,
    adapter: HTTPAdapter | None = None,
    cut: bool = False,
) -> Reply:
    """`exchange` with the answer's headers, through `adapter` when given (a test's capture of the
    request at the transport, for a platform whose host is fixed), else a bounded one of its own;
    with `cut`, a body past `limit` is cut there (its status is the answer), not an error."""
    from urllib3.exceptions import HTTPError

    request = PreparedRequest()
    request.prepare(method=method, url=url, headers=dict(headers or {}), data=data)
    own = adapter is None
    carrier: HTTPAdapter = (
        adapter if adapter is not None else BoundedAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
    )
    try:
        with WATCHDOG.guard(time.monotonic() + timeout) as guard:
            try:
                response = carrier.send(request, stream=True, timeout=(min(timeout, 5.0), timeout))
                try:
                    body = read_body(response, guard.deadline, limit, cut)
                    # Case-insensitive, as HTTP's names are: a `retry-after` counts as a `Retry-After`.
                    return Reply(response.status_code, CaseInsensitiveDict(response.headers), body)
                finally:
                    response.close()
            # requests' ConnectionError is an OSError too; urllib3's HTTPError is a body cut short
            # (IncompleteRead). Whichever, past the deadline it is the watchdog's doing: a timeout.
            except (HTTPError, BodyTooLarge, OSError) as exc:
                if guard.expired:
                    raise TimeoutError(f"no answer within {timeout:g} s") from None
                if isinstance(exc, OSError):
                    raise
                raise NoAnswer(f"{type(exc).__name__}: {exc}") from None
    finally:
        if own:
            carrier.close()


def cannot_connect(exc: BaseException, where: str) -> tuple[str, str]:
    """(code, sentence) of a failed connection, from the exception's root cause, never a repr:
    `cannot connect to 127.0.0.1:9: connection refused`."""
    causes: list[BaseException] = []
    seen: BaseException | None = exc
    while seen is not None and len(causes) < 10:
        causes.append(seen)
        reason = getattr(seen, "reason", None)  # urllib3's MaxRetryError keeps the cause there
        seen = reason if isinstance(reason, BaseException) else seen.__cause__ or seen.__context__
    for cause in causes:
        if isinstance(cause, ConnectionRefusedError):
            return "ConnectionRefused", f"cannot connect to {where}: connection refused"
        if isinstance(cause, socket.gaierror):
            return "NameNotResolved", f"cannot connect to {where}: the name does not resolve"
        if isinstance(cause, ssl.SSLError):
            return "TLSFailed", f"cannot connect to {where}: TLS failed ({cause.reason or cause})"
        if isinstance(cause, OSError) and cause.errno in (errno.EHOSTUNREACH, errno.ENETUNREACH):
            return "HostUnreachable", f"cannot connect to {where}: no route to the host"
    for cause in causes:
        if isinstance(cause, ConnectionResetError):
            return "ConnectionError", f"the connection to {where} was reset"
    return (
        "ConnectionError",
        f"the connection to {where} failed without an answer ({type(causes[-1]).__name__})",
    )
