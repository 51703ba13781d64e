"""The emulated API's behaviour, apart from HTTP: who may call, how often, and what each call gets."""

from __future__ import annotations

import random
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from audit.common.jobtypes import MEDIA_FIELDS, NAMES
from audit.emulator.config import EmulatorConfig
from audit.emulator.data import StoredJob
from audit.emulator.gateway import Gateway, Refusal, Request
from audit.emulator.identity import CREDENTIALS_URI, METADATA_ROLES, METADATA_TOKEN, Identity
from audit.emulator.media import Library, SearchError
from audit.emulator.playback import PlaybackError, mezzanine_info, play_info
from audit.vod.protocol import ACTION, GET_MEZZANINE_INFO, GET_PLAY_INFO, LIST_JOB_INFO, SEARCH_MEDIA

Transport = Literal["normal", "reset", "truncate"]


@dataclass(frozen=True)
class Reply:
    """What the server sends: a status and JSON document after `delay` seconds, or a broken transport."""

    status: int
    document: dict[str, Any] | str  # a JSON document, or plain text (the metadata service's)
    delay: float = 0.0
    transport: Transport = "normal"


class Quota:
    """Requests accepted per account in any one-second window, as the gateway's flow control."""

    def __init__(self, qps: float) -> None:
        self._limit = int(qps) if qps >= 1 else (1 if qps > 0 else 0)
        self._windows: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def admit(self, account: str, now: float) -> bool:
        if not self._limit:
            return True
        with self._lock:
            window = self._windows.setdefault(account, deque())
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
        self.by_operation: Counter[tuple[str, str, str]] = Counter()  # (operation, account, served|throttled)
        self.spans: dict[str, list[float]] = {}  # operation: wall clock of its first and last served call
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

    def operation(self, action: str, account: str, outcome: str) -> None:
        now = time.time()
        with self._lock:
            self.by_operation[(action, account, outcome)] += 1
            if outcome == "served":
                self.spans.setdefault(action, [now, now])[1] = now

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            outcomes: Counter[str] = Counter()
            keys: dict[str, dict[str, int]] = {}
            for (key, outcome), n in self.by_outcome.items():
                outcomes[outcome] += n
                keys.setdefault(key, {})[outcome] = n
            operations: dict[str, dict[str, dict[str, int]]] = {}
            for (action, account, outcome), n in self.by_operation.items():
                operations.setdefault(action, {}).setdefault(account, {})[outcome] = n
            return {
                "total": sum(n for (key, _), n in self.by_outcome.items() if key != "background"),
                "by_outcome": dict(outcomes),
                "by_access_key": keys,
                "jobs_answered": {f"{t}/{i}": n for (t, i), n in self.by_job.items()},
                "by_operation": operations,
                "spans": {action: list(span) for action, span in self.spans.items()},
                "first_at": self.first_at,
                "last_at": self.last_at,
            }


def error_document(code: str, message: str, request_id: str, host: str) -> dict[str, Any]:
    """An error body as the gateway words it."""
    return {
        "RequestId": request_id,
        "HostId": host,
        "Code": code,
        "Message": message,
        "Recommend": f"https://api.aliyun.com/troubleshoot?q={code}&product=vod&requestId={request_id}",
    }


# The gateway's wording of the server-side faults (error codes and statuses from the API notes).
_SERVER_FAULTS = {
    "internal": (500, "InternalError", "The request processing has failed due to some unknown error."),
    "unavailable": (
        503,
        "ServiceUnAvailable",
        "The request has failed due to a temporary failure of the server.",
    ),
}


class VodApi:
    """GetJobDetail's behaviour over a set of jobs: authentication, quota, faults, answers, counters."""

    def __init__(
        self,
        jobs: Mapping[tuple[str, str], StoredJob],
        config: EmulatorConfig,
        media: Sequence[Mapping[str, Any]] = (),
    ) -> None:
        self.config = config
        self.jobs = dict(jobs)
        self.counters = Counters()
        accounts = {config.access_key_id: (config.access_key_secret, config.security_token)}
        accounts.update({key: (secret, token) for key, secret, token in config.accounts})
        self.identity = Identity(accounts, config.token_lifetime, config.ecs_role)
        self.gateway = Gateway(self.identity.key)
        # Each operation is limited per account on its own (the API's QPS limits page).
        self.quotas = {
            ACTION: Quota(config.qps),
            SEARCH_MEDIA: Quota(config.search_qps),
            LIST_JOB_INFO: Quota(config.list_qps),
            GET_PLAY_INFO: Quota(config.play_qps),
            GET_MEZZANINE_INFO: Quota(config.mezzanine_qps),
        }
        self.library = Library(self.jobs, config.max_age_days, config.paged_results, media)
        self._rng = random.Random(config.seed)
        self._rng_lock = threading.Lock()

    def random(self) -> float:
        with self._rng_lock:
            return self._rng.random()

    def choice(self, options: tuple[str, ...]) -> str:
        with self._rng_lock:
            return self._rng.choice(options)

    def request_id(self) -> str:
        with self._rng_lock:
            raw = uuid.UUID(int=self._rng.getrandbits(128)).hex.upper()
        return f"{raw[:8]}-{raw[8:12]}-{raw[12:16]}-{raw[16:20]}-{raw[20:]}"

    def latency(self) -> float:
        base = self.config.latency_ms
        if base <= 0:
            return 0.0
        jitter = base / 3 if self.config.latency_jitter_ms is None else self.config.latency_jitter_ms
        with self._rng_lock:
            return max(0.0, base + self._rng.uniform(-jitter, jitter)) / 1000

    def admit(self, account: str, action: str = ACTION) -> bool:
        return self.quotas[action].admit(account, time.monotonic())

    def lookup(self, job_type: str, job_id: str) -> StoredJob | None:
        job = self.jobs.get((job_type, job_id))
        if job is None:
            return None
        return job if job.visible(datetime.now(UTC), self.config.max_age_days) else None

    def handle(self, request: Request) -> Reply:
        """The reply to one API request: refused, throttled, failed, or answered."""
        request_id = self.request_id()
        delay = self.latency()
        host = request.headers.get("host", "vod.cn-shanghai.aliyuncs.com")
        if request.path == CREDENTIALS_URI:
            return Reply(*self.identity.credentials_uri())
        if request.path.startswith((METADATA_TOKEN, METADATA_ROLES)):
            return Reply(*self.identity.metadata(request.method, request.path, request.headers))
        params = {**request.query, **request.form}
        if params.get("Action") == "AssumeRoleWithOIDC":
            return Reply(*self.identity.assume_role_with_oidc(params, request_id), delay)
        try:
            caller = self.gateway.authenticate(request)
        except Refusal as refusal:
            self.counters.count("unauthenticated", refusal.code)
            return Reply(
                refusal.status, error_document(refusal.code, refusal.message, request_id, host), delay
            )
        if caller.action == "AssumeRole":
            return Reply(*self.identity.assume_role(caller, request_id), delay)
        key = caller.access_key_id
        if not self.admit(caller.account, caller.action):
            self.counters.count(key, "Throttling.User")
            self.counters.operation(caller.action, caller.account, "throttled")
            message = "Request was denied due to user flow control."
            return Reply(400, error_document("Throttling.User", message, request_id, host), delay)
        self.counters.operation(caller.action, caller.account, "served")
        if caller.action in (SEARCH_MEDIA, LIST_JOB_INFO):
            return self._discovery(caller.action, caller.params, request_id, host, delay)
        if caller.action in (GET_PLAY_INFO, GET_MEZZANINE_INFO):
            return self._playback(caller.action, caller.params, request_id, host, delay)
        if caller.params.get("JobId") in self.config.failing_jobs:
            return self._fault("internal", caller.params, request_id, host, delay)
        if self.config.fault_rate > 0 and self.random() < self.config.fault_rate:
            return self._fault(self.choice(self.config.faults), caller.params, request_id, host, delay)
        status, document, outcome, job = self.response(caller.params, request_id, host)
        self.counters.count(key, outcome, job)
        return Reply(status, document, delay)

    def _discovery(
        self, action: str, params: Mapping[str, str], request_id: str, host: str, delay: float
    ) -> Reply:
        """SearchMedia or ListJobInfo, answered from the library (no faults are injected into them)."""
        if action == LIST_JOB_INFO and params.get("MediaId") in self.config.failing_media:
            return self._fault("internal", params, request_id, host, delay)
        if action == LIST_JOB_INFO:
            for name in ("MediaId", "JobType"):
                if not params.get(name):
                    message = f"The input parameter {name} that is mandatory for processing this request is not supplied."
                    return Reply(400, error_document("MissingParameter", message, request_id, host), delay)
            if params["JobType"] not in MEDIA_FIELDS:
                message = f"The specified parameter JobType is not valid. ({params['JobType']})"
                return Reply(400, error_document("InvalidParameter", message, request_id, host), delay)
            return Reply(200, self.library.list_jobs(params, request_id, datetime.now(UTC)), delay)
        try:
            return Reply(200, self.library.search(params, request_id), delay)
        except SearchError as refused:
            return Reply(400, error_document(refused.code, str(refused), request_id, host), delay)

    def _playback(
        self, action: str, params: Mapping[str, str], request_id: str, host: str, delay: float
    ) -> Reply:
        """GetPlayInfo or GetMezzanineInfo, answered from the library's media (audit.emulator.playback)."""
        video = params.get("VideoId")
        if not video:
            message = (
                "The input parameter VideoId that is mandatory for processing this request is not supplied."
            )
            return Reply(400, error_document("MissingParameter", message, request_id, host), delay)
        media = self.library.media.get(video)
        try:
            answer = play_info if action == GET_PLAY_INFO else mezzanine_info
            return Reply(200, answer(media, params, request_id), delay)
        except PlaybackError as refused:
            return Reply(refused.status, error_document(refused.code, str(refused), request_id, host), delay)

    def _fault(self, kind: str, params: Mapping[str, str], request_id: str, host: str, delay: float) -> Reply:
        self.counters.count(self.config.access_key_id, f"fault_{kind}")
        if kind in _SERVER_FAULTS:
            status, code, message = _SERVER_FAULTS[kind]
            return Reply(status, error_document(code, message, request_id, host), delay)
        if kind == "reset":
            return Reply(0, {}, transport="reset")
        if kind == "truncated":
            document = {
                "RequestId": request_id,
                "JobType": params.get("JobType", "transcode"),
                "Padding": "x" * 64,
            }
            return Reply(200, document, delay, transport="truncate")
        # slow: answer correctly, but only after the client has given up (counted as the fault)
        status, document, _, _ = self.response(params, request_id, host)
        return Reply(status, document, self.config.slow_seconds)

    def response(
        self, params: Mapping[str, str], request_id: str, host: str
    ) -> tuple[int, dict[str, Any], str, tuple[str, str] | None]:
        """(status, body, outcome for the counters, job answered) of an authenticated request."""
        job_id, job_type = params.get("JobId"), params.get("JobType")
        for name, value in (("JobId", job_id), ("JobType", job_type)):
            if not value:
                message = f"The input parameter {name} that is mandatory for processing this request is not supplied."
                return (
                    400,
                    error_document("MissingParameter", message, request_id, host),
                    "MissingParameter",
                    None,
                )
        assert job_id is not None and job_type is not None
        if job_type not in NAMES:
            message = f"The specified parameter JobType is not valid. ({job_type})"
            return (
                400,
                error_document("InvalidParameter", message, request_id, host),
                "InvalidParameter",
                None,
            )
        job = self.lookup(job_type, job_id)
        if job is None:
            if self.config.unknown_job == "error":
                message = "The specified parameter JobId is not valid."
                document = error_document("InvalidParameter", message, request_id, host)
                return 400, document, "not_found", (job_type, job_id)
            return 200, {"RequestId": request_id, "JobType": job_type}, "not_found", (job_type, job_id)
        return 200, {"RequestId": request_id, **job.body}, "ok", (job_type, job_id)
