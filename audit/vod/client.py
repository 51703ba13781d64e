"""One signed VOD call (GetJobDetail, or a discovery operation) over pooled connections, returning a typed result."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from audit.common.jobtypes import JobRef, job_type
from audit.common.jsonfile import parse_answer
from audit.common.timeutil import format_utc
from audit.vod.endpoints import Endpoint
from audit.vod.keys import Credentials, FixedKeys, KeyHolder, redact
from audit.vod.protocol import ACTION, VERSION
from audit.vod.records import Answer, ApiError, CallResult
from audit.vod.signing import canonical_query, sign_v1, sign_v3

USER_AGENT = "vod-audit"

if TYPE_CHECKING:
    from requests import PreparedRequest

SignatureVersion = Literal["v3", "v1"]
log = logging.getLogger("audit.vod.client")


class VodClient:
    """Calls GetJobDetail; never raises for network or API trouble, it returns an ApiError."""

    def __init__(
        self,
        endpoint: Endpoint,
        credentials: Credentials | KeyHolder,
        *,
        signature: SignatureVersion = "v3",
        timeout: float = 10.0,
        pool_size: int = 16,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from audit.vod.transport import BoundedAdapter

        self.endpoint = endpoint
        # A KeyHolder renews temporary keys during the run; bare credentials are held fixed.
        self._keys = FixedKeys(credentials) if isinstance(credentials, Credentials) else credentials
        self._signature = signature
        self._timeout = (min(timeout, 10.0), timeout)
        self._clock = clock
        # A call is one signed POST with no cookies, redirects, hooks or proxy settings to merge, so it
        # goes straight to requests' transport adapter: a Session's per-request merging cost more CPU
        # than the rest of the call (bench/FINDINGS.md). TLS verification stays on.
        self._adapter = BoundedAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)

    @property
    def access_key_id(self) -> str:
        return self._keys.current().access_key_id

    def close(self) -> None:
        self._adapter.close()

    def _prepare(
        self, action: str, params: dict[str, str], keys: Credentials
    ) -> tuple[str, dict[str, str], bytes]:
        nonce = os.urandom(16).hex()  # as random as uuid4's hex, without building a UUID per call
        now = format_utc(self._clock())
        secret = keys.access_key_secret.reveal()
        token = keys.security_token.reveal() if keys.security_token else None
        if self._signature == "v1":
            # Parameters travel in the form body so that no token or signature sits in a URL or access log.
            signed = sign_v1(
                method="POST",
                params=params,
                action=action,
                version=VERSION,
                access_key_id=keys.access_key_id,
                access_key_secret=secret,
                security_token=token,
                timestamp=now,
                nonce=nonce,
            )
            body = canonical_query(signed).encode("ascii")
            headers = {
                "Host": self.endpoint.host,
                "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json",
                "User-Agent": USER_AGENT,
            }
            return f"{self.endpoint.url}/", headers, body
        headers = sign_v3(
            method="POST",
            host=self.endpoint.host,
            query=params,
            action=action,
            version=VERSION,
            body=b"",
            access_key_id=keys.access_key_id,
            access_key_secret=secret,
            security_token=token,
            date=now,
            nonce=nonce,
        )
        headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        return f"{self.endpoint.url}/?{canonical_query(params)}", headers, b""

    def _request(self, action: str, params: dict[str, str], keys: Credentials) -> PreparedRequest:
        from requests import PreparedRequest

        url, headers, body = self._prepare(action, params, keys)
        headers["Content-Length"] = str(len(body))
        request = PreparedRequest()
        request.method = "POST"
        request.url = url  # already canonical: the endpoint and a percent-encoded query
        # Our own header names and values, as a plain dict: requests' case-insensitive copy and its
        # checks cost a tenth of a call, and http.client refuses a value with a line break anyway.
        request.headers = headers  # type: ignore[assignment]
        request.body = body or None
        return request

    def get_job_detail(self, job: JobRef) -> CallResult:
        """One attempt, no retry, over in `timeout` seconds whatever the server does."""
        result = self.call(ACTION, {"JobId": job.job_id, "JobType": job.job_type}, job)
        log.debug("GetJobDetail %s %s -> %s", job.job_type, job.job_id, _summary(result))
        return result

    def call(self, action: str, params: dict[str, str], about: JobRef | None = None) -> CallResult:
        """One attempt at any operation of the product; `about`: the job a GetJobDetail asks for,
        whose answer must be about it."""
        import requests
        from urllib3.exceptions import HTTPError

        from audit.vod.transport import WATCHDOG, BodyTooLarge, cannot_connect, read_body

        total = self._timeout[1]
        keys = self._keys.current()
        with WATCHDOG.guard(time.monotonic() + total) as guard:
            try:
                response = self._adapter.send(
                    self._request(action, params, keys), stream=True, timeout=self._timeout, verify=True
                )
                try:
                    content = read_body(response, guard.deadline)
                finally:
                    response.close()
            except BodyTooLarge as exc:
                return ApiError("body", "BodyTooLarge", str(exc))
            except ValueError as exc:  # an encoding we do not decode
                return ApiError("body", "InvalidBody", str(exc))
            except (requests.RequestException, HTTPError, OSError) as exc:
                if guard.expired or isinstance(exc, requests.Timeout | TimeoutError):
                    return ApiError("timeout", "Timeout", f"no complete answer within {total:g}s")
                return ApiError("connection", *cannot_connect(exc, urlsplit(self.endpoint.url).netloc))
        result = _interpret(response.status_code, content, about)
        if isinstance(result, ApiError):
            result = replace(result, message=redact(result.message, keys.secrets))
            if result.token_expired:
                self._keys.expired(keys)
        if about is None:
            log.debug("%s -> %s", action, _summary(result))
        return result


def _summary(result: CallResult) -> str:
    return f"HTTP {result.status}" if isinstance(result, Answer) else result.describe()


def _interpret(status: int, content: bytes, job: JobRef | None) -> CallResult:
    try:
        # Decoded once, as UTF-8 (RFC 8259 §8.1): the parse and the Answer's exact text share it. A
        # byte-order mark is ignored for the parse, as the JSON reader ignored it before.
        text = content.decode("utf-8")
        document, anomalies = parse_answer(text.removeprefix("\ufeff"))
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        if status == 429:
            return ApiError(
                "api", "Throttling", f"HTTP 429 with a non-JSON body ({len(content)} bytes)", status
            )
        if status >= 400:
            return ApiError("api", f"HTTP{status}", f"non-JSON error body ({len(content)} bytes)", status)
        return ApiError("body", "InvalidBody", f"response is not JSON ({str(exc)[:120]})", status)
    if not isinstance(document, dict):
        return ApiError(
            "body", "InvalidBody", f"response is JSON {type(document).__name__}, not an object", status
        )
    if status >= 400 or (status != 200 and "Code" in document) or _error_in_200(status, document, job):
        return ApiError(
            "api",
            str(document.get("Code") or f"HTTP{status}"),
            str(document.get("Message") or ""),
            status,
            str(document["RequestId"]) if "RequestId" in document else None,
        )
    if status != 200:
        return ApiError("body", "UnexpectedStatus", f"HTTP {status} with a non-error body", status)
    other = _about_another_job(document, job) if job is not None else None
    if other:
        return ApiError("body", "WrongJob", other, status)
    return Answer(document, status, text, anomalies)


def _error_in_200(status: int, document: dict[str, Any], job: JobRef | None) -> bool:
    """A 200 that carries an error (a `Code`) and no detail object: an error, not an unknown job."""
    if status != 200 or "Code" not in document:
        return False
    return job is None or job_type(job.job_type).detail_object not in document


def _about_another_job(document: dict[str, Any], job: JobRef) -> str | None:
    """What came back instead, when a body is about another job than the one asked; else None.

    JobIds are compared exactly: they are case-sensitive identifiers, so an id that differs only in
    letter case names another job. A body without an id in its detail object cannot be told apart
    and is judged as it is (the missing id is a schema warning).
    """
    kind = job_type(job.job_type)
    named = document.get("JobType")
    if isinstance(named, str) and named != job.job_type:
        return f"the answer is about a {named} job, not the {job.job_type} job asked"
    detail = kind.detail(document)
    found = detail.get(kind.id_field) if detail is not None else None
    if isinstance(found, str) and found != job.job_id:
        return f"the answer is about {job.job_type} job {found!r}, not {job.job_id!r}"
    return None
