"""Checks a request the way the RPC gateway does: action, version, signature, time, nonce, token."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from audit.common.timeutil import parse_utc
from audit.credentials.sts import VERSION as STS_VERSION
from audit.vod.protocol import OPERATIONS as VOD_OPERATIONS
from audit.vod.protocol import VERSION
from audit.vod.signing import (
    V3_ALGORITHM,
    sha256_hex,
    v1_signature,
    v1_string_to_sign,
    v3_signature,
    v3_string_to_sign,
)

TIME_WINDOW = 15 * 60  # seconds either side of the gateway's clock
# The signed operations served on this port, with their versions: VOD's, and STS's AssumeRole.
OPERATIONS = {**dict.fromkeys(VOD_OPERATIONS, VERSION), "AssumeRole": STS_VERSION}
SIGNATURE_MISMATCH = "Specified signature is not matched with our calculation. server string to sign is:"


@dataclass(frozen=True)
class Refusal(Exception):
    """The gateway's answer to a request it will not serve."""

    status: int
    code: str
    message: str


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: Mapping[str, str]
    form: Mapping[str, str]
    headers: Mapping[str, str]  # names lowercased
    body: bytes


@dataclass(frozen=True)
class Key:
    """An AccessKey the gateway knows: long-term (no token) or temporary (token and expiry)."""

    secret: str
    token: str | None
    account: str  # whose quota the key spends
    expires: datetime | None = None


@dataclass(frozen=True)
class Caller:
    access_key_id: str
    params: Mapping[str, str]
    account: str
    action: str


class NonceStore:
    """Nonces seen within the time window; a reused one is refused."""

    def __init__(self, ttl: float = 2 * TIME_WINDOW, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl
        self._clock = clock
        self._seen: dict[tuple[str, str], float] = {}
        self._lock = threading.Lock()
        self._next_sweep = 0.0

    def claim(self, access_key_id: str, nonce: str) -> bool:
        now = self._clock()
        with self._lock:
            if now >= self._next_sweep:
                self._seen = {k: t for k, t in self._seen.items() if now - t < self._ttl}
                self._next_sweep = now + 60
            key = (access_key_id, nonce)
            if key in self._seen and now - self._seen[key] < self._ttl:
                return False
            self._seen[key] = now
            return True


class Gateway:
    """Authenticates requests against known AccessKeys (secret, optional STS token)."""

    def __init__(
        self,
        keys: Callable[[str], Key | None],
        *,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        nonces: NonceStore | None = None,
    ) -> None:
        self._keys = keys
        self._clock = clock
        self._nonces = nonces or NonceStore()

    def authenticate(self, request: Request) -> Caller:
        """The caller and its merged parameters, or raises Refusal with the gateway's error."""
        if "authorization" in request.headers:
            return self._v3(request)
        return self._v1(request)

    def _key(self, access_key_id: str) -> Key:
        key = self._keys(access_key_id)
        if key is None:
            raise Refusal(404, "InvalidAccessKeyId.NotFound", "Specified access key is not found.")
        return key

    def _check_time(self, value: str | None) -> None:
        moment = parse_utc(value)
        if moment is None:
            raise Refusal(
                400, "InvalidTimeStamp.Format", "Specified time stamp or date value is not well formatted."
            )
        if abs((self._clock() - moment).total_seconds()) > TIME_WINDOW:
            raise Refusal(400, "InvalidTimeStamp.Expired", "Specified time stamp or date value is expired.")

    def _check_nonce(self, access_key_id: str, nonce: str | None) -> None:
        if not nonce:
            raise Refusal(
                400,
                "MissingParameter",
                "The input parameter SignatureNonce that is mandatory for processing this request is not supplied.",
            )
        if not self._nonces.claim(access_key_id, nonce):
            raise Refusal(400, "SignatureNonceUsed", "Specified signature nonce was used already.")

    def _check_token(self, key: Key, sent: str | None) -> None:
        if key.token is not None and sent != key.token:
            code = (
                "InvalidSecurityToken.Malformed" if not sent else "InvalidSecurityToken.MismatchWithAccessKey"
            )
            raise Refusal(
                400, code, "Specified SecurityToken is invalid or does not belong to this AccessKey."
            )
        if key.expires is not None and self._clock() >= key.expires:
            raise Refusal(400, "InvalidSecurityToken.Expired", "Specified SecurityToken is expired.")

    @staticmethod
    def _check_operation(action: str | None, version: str | None) -> None:
        if action not in OPERATIONS:
            raise Refusal(
                404,
                "InvalidAction.NotFound",
                f"Specified api is not found, please check your url and method. ({action})",
            )
        if version != OPERATIONS[action]:
            raise Refusal(400, "InvalidVersion", f"Specified parameter Version is not valid. ({version})")

    def _v3(self, request: Request) -> Caller:
        auth = request.headers["authorization"]
        algorithm, _, rest = auth.partition(" ")
        parts = dict(part.strip().partition("=")[::2] for part in rest.split(",") if "=" in part)
        if algorithm != V3_ALGORITHM or not {"Credential", "SignedHeaders", "Signature"} <= parts.keys():
            raise Refusal(
                400, "IncompleteSignature", "The request signature does not conform to Aliyun standards."
            )
        headers = request.headers
        self._check_operation(headers.get("x-acs-action"), headers.get("x-acs-version"))
        signed = [name for name in parts["SignedHeaders"].split(";") if name]
        must_sign = {"host"} | {name for name in headers if name.startswith("x-acs-")}
        if not must_sign <= set(signed) or any(name not in headers for name in signed):
            raise Refusal(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards: "
                "host and every x-acs-* header must be signed.",
            )
        access_key_id = parts["Credential"]
        key = self._key(access_key_id)
        self._check_time(headers.get("x-acs-date"))
        payload_hash = headers.get("x-acs-content-sha256", "")
        if payload_hash != sha256_hex(request.body):
            raise Refusal(400, "IncompleteSignature", "x-acs-content-sha256 does not match the request body.")
        string_to_sign, _ = v3_string_to_sign(
            request.method, request.path, request.query, headers, signed, payload_hash
        )
        if v3_signature(key.secret, string_to_sign) != parts["Signature"]:
            raise Refusal(400, "SignatureDoesNotMatch", SIGNATURE_MISMATCH + string_to_sign)
        self._check_nonce(access_key_id, headers.get("x-acs-signature-nonce"))
        self._check_token(key, headers.get("x-acs-security-token"))
        action = headers["x-acs-action"]
        return Caller(access_key_id, {**request.query, **request.form}, key.account, action)

    def _v1(self, request: Request) -> Caller:
        params = {**request.query, **request.form}
        if "Signature" not in params or "AccessKeyId" not in params:
            raise Refusal(
                400,
                "IncompleteSignature",
                "The request signature does not conform to Aliyun standards: "
                "no Authorization header and no Signature parameter.",
            )
        self._check_operation(params.get("Action"), params.get("Version"))
        if params.get("SignatureMethod") != "HMAC-SHA1" or params.get("SignatureVersion") != "1.0":
            raise Refusal(
                400, "IncompleteSignature", "SignatureMethod must be HMAC-SHA1 and SignatureVersion 1.0."
            )
        access_key_id = params["AccessKeyId"]
        key = self._key(access_key_id)
        self._check_time(params.get("Timestamp"))
        string_to_sign = v1_string_to_sign(request.method, params)
        if v1_signature(key.secret, string_to_sign) != params["Signature"]:
            raise Refusal(400, "SignatureDoesNotMatch", SIGNATURE_MISMATCH + string_to_sign)
        self._check_nonce(access_key_id, params.get("SignatureNonce"))
        self._check_token(key, params.get("SecurityToken"))
        return Caller(access_key_id, params, key.account, params["Action"])
