"""Typed results of calls to GetJobDetail, and how each failure is classified."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from audit.common.jobtypes import JobRef

ErrorKind = Literal["api", "timeout", "connection", "body"]

THROTTLING = frozenset(
    {"Throttling", "Throttling.User", "Throttling.Api", "Throttling.Tenant", "ServiceBusy"}
)
# Connection failures that reach nothing (client.py names them from the exception's cause).
UNREACHABLE = frozenset({"ConnectionRefused", "NameNotResolved", "HostUnreachable", "TLSFailed"})
SERVER = frozenset({"InternalError", "ServiceUnAvailable", "ServiceUnavailable", "ServiceTimeout"})
# The credentials or their permissions are wrong: retrying cannot help, and no job can be audited.
AUTHENTICATION = frozenset(
    {
        "SignatureDoesNotMatch",
        "IncompleteSignature",
        "InvalidAccessKeyId.NotFound",
        "InvalidAccessKeyId.Inactive",
        "InvalidAccessKeySecret",
        "InvalidTimeStamp.Format",
        "InvalidTimeStamp.Expired",
        "InvalidSecurityToken.Expired",
        "InvalidSecurityToken.Malformed",
        "InvalidSecurityToken.MismatchWithAccessKey",
        "Forbidden",
        "Forbidden.RAM",
        "OperationDenied",
        "OperationDenied.Suspended",
        "Forbidden.AccessKeyDisabled",
    }
)


@dataclass(frozen=True, slots=True)
class Answer:
    """A 200 body about the job asked: parsed, as received, and what strict JSON would refuse in it."""

    body: dict[str, Any]
    status: int = 200
    text: str | None = None  # the body exactly as received (None: built in-process, e.g. by tests)
    anomalies: tuple[str, ...] = ()  # duplicate member names, numbers beyond a double


@dataclass(frozen=True, slots=True)
class ApiError:
    """A call that produced no usable body: an API error, a timeout, a broken connection or body."""

    kind: ErrorKind
    code: str
    message: str
    status: int | None = None
    request_id: str | None = None

    @property
    def throttled(self) -> bool:
        # 429 Too Many Requests (RFC 6585 §4) is throttling whatever its body says (a plain-text page).
        return self.kind == "api" and (self.code in THROTTLING or self.status == 429)

    @property
    def authentication(self) -> bool:
        return self.kind == "api" and (
            self.code in AUTHENTICATION
            or self.code.startswith(("Forbidden", "OperationDenied", "InvalidSecurityToken"))
        )

    @property
    def token_expired(self) -> bool:
        """The STS token signed with has expired: renewed credentials can succeed (API notes)."""
        return self.kind == "api" and self.code == "InvalidSecurityToken.Expired"

    @property
    def job_not_found(self) -> bool:
        """How the gateway may say a JobId is unknown (unconfirmed: both forms are treated alike; docs: Troubleshooting, `not_found`)."""
        if self.kind != "api":
            return False
        if self.code == "InvalidParameter" and "jobid" in self.message.lower():
            return True
        return self.code.endswith(("NotExist", "NotFound")) and "Job" in self.code

    @property
    def retryable(self) -> bool:
        if self.kind != "api":
            return True
        return self.throttled or self.code in SERVER or (self.status is not None and self.status >= 500)

    @property
    def cannot_connect(self) -> bool:
        """No connection could be made at all (refused, no such name, no route, TLS refused): unlike a
        reset or a body cut short, nothing was reached."""
        return self.kind == "connection" and self.code in UNREACHABLE

    def describe(self) -> str:
        status = f"HTTP {self.status} " if self.status else ""
        request = f" (RequestId {self.request_id})" if self.request_id else ""
        return f"{status}{self.code}: {self.message}{request}"


CallResult = Answer | ApiError


@dataclass(frozen=True, slots=True)
class Fetched:
    """The final result for one job after retries."""

    job: JobRef
    result: CallResult
    attempts: int
    fetched_at: datetime
