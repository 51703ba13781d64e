"""One signed GetJobDetail call over a pooled `requests` session, returning a typed result."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal

from audit.jsonfile import parse_json
from audit.timeutil import format_utc
from audit.vod.credentials import Credentials
from audit.vod.endpoints import Endpoint
from audit.vod.protocol import ACTION, VERSION
from audit.vod.records import Answer, ApiError, CallResult, JobRef
from audit.vod.signing import canonical_query, percent_encode, sign_v1, sign_v3

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
        credentials: Credentials,
        *,
        signature: SignatureVersion = "v3",
        timeout: float = 10.0,
        pool_size: int = 16,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        from requests.adapters import HTTPAdapter

        self.endpoint = endpoint
        self._credentials = credentials
        self._signature = signature
        self._timeout = (min(timeout, 10.0), timeout)
        self._clock = clock
        # A call is one signed POST with no cookies, redirects, hooks or proxy settings to merge, so it
        # goes straight to requests' transport adapter: a Session's per-request merging cost more CPU
        # than the rest of the call (bench/FINDINGS.md). TLS verification stays on.
        self._adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=0)

    @property
    def access_key_id(self) -> str:
        return self._credentials.access_key_id

    def close(self) -> None:
        self._adapter.close()

    def _prepare(self, job: JobRef) -> tuple[str, dict[str, str], bytes]:
        params = {"JobId": job.job_id, "JobType": job.job_type}
        nonce = uuid.uuid4().hex
        now = format_utc(self._clock())
        secret = self._credentials.access_key_secret.reveal()
        token = self._credentials.security_token.reveal() if self._credentials.security_token else None
        if self._signature == "v1":
            # Parameters travel in the form body so that no token or signature sits in a URL or access log.
            signed = sign_v1(
                method="POST",
                params=params,
                action=ACTION,
                version=VERSION,
                access_key_id=self.access_key_id,
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
            action=ACTION,
            version=VERSION,
            body=b"",
            access_key_id=self.access_key_id,
            access_key_secret=secret,
            security_token=token,
            date=now,
            nonce=nonce,
        )
        headers.update({"Accept": "application/json", "User-Agent": USER_AGENT})
        return f"{self.endpoint.url}/?{canonical_query(params)}", headers, b""

    def _request(self, job: JobRef) -> PreparedRequest:
        from requests import PreparedRequest

        url, headers, body = self._prepare(job)
        request = PreparedRequest()
        request.prepare_method("POST")
        request.url = url  # already canonical: the endpoint and a percent-encoded query
        request.prepare_headers(headers)
        request.body = body or None
        request.prepare_content_length(request.body)
        return request

    def get_job_detail(self, job: JobRef) -> CallResult:
        """One attempt, no retry."""
        import requests

        try:
            response = self._adapter.send(self._request(job), timeout=self._timeout, verify=True)
            content = response.content
        except requests.Timeout as exc:
            return ApiError(
                "timeout", "Timeout", f"no answer within {self._timeout[1]:g}s ({type(exc).__name__})"
            )
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError) as exc:
            return ApiError("connection", "ConnectionError", _short(exc))
        except requests.RequestException as exc:
            return ApiError("connection", type(exc).__name__, _short(exc))
        result = _interpret(response.status_code, content)
        if isinstance(result, ApiError):
            result = replace(result, message=self._scrub(result.message))
        log.debug("GetJobDetail %s %s -> %s", job.job_type, job.job_id, _summary(result))
        return result

    def _scrub(self, text: str) -> str:
        """An error message without credentials: the gateway echoes its string to sign, which holds
        every signed parameter (an STS token among them, with V1)."""
        marker = "string to sign is:"
        if marker in text:
            text = text.split(marker)[0] + marker + " (withheld: it carries the signed request parameters)"
        for secret in self._credentials.secrets:
            for form in {secret, percent_encode(secret), percent_encode(percent_encode(secret))}:
                text = text.replace(form, "***")
        return text


def _short(exc: BaseException) -> str:
    text = str(exc)
    return f"{type(exc).__name__}: {text[:300]}"


def _summary(result: CallResult) -> str:
    return f"HTTP {result.status}" if isinstance(result, Answer) else result.describe()


def _interpret(status: int, content: bytes) -> CallResult:
    try:
        document: Any = parse_json(content)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        if status >= 400:
            return ApiError("api", f"HTTP{status}", f"non-JSON error body ({len(content)} bytes)", status)
        return ApiError("body", "InvalidBody", f"response is not JSON ({str(exc)[:120]})", status)
    if not isinstance(document, dict):
        return ApiError(
            "body", "InvalidBody", f"response is JSON {type(document).__name__}, not an object", status
        )
    if status >= 400 or (status != 200 and "Code" in document):
        return ApiError(
            "api",
            str(document.get("Code") or f"HTTP{status}"),
            str(document.get("Message") or ""),
            status,
            str(document["RequestId"]) if "RequestId" in document else None,
        )
    if status != 200:
        return ApiError("body", "UnexpectedStatus", f"HTTP {status} with a non-error body", status)
    return Answer(document, status)
