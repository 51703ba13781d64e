"""Alibaba Cloud request signatures V3 (ACS3-HMAC-SHA256) and V1 (HMAC-SHA1), as pure functions."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from urllib.parse import quote

V3_ALGORITHM = "ACS3-HMAC-SHA256"


_UNRESERVED = re.compile(r"[A-Za-z0-9_.~-]*").fullmatch


def percent_encode(value: str) -> str:
    """RFC 3986: unreserved `A-Za-z0-9-_.~` kept, everything else as UTF-8 %XX (space %20, `*` %2A)."""
    # Names and ids are nearly always unreserved already: returned as they are, without quote's work.
    return value if _UNRESERVED(value) else quote(value, safe="~", encoding="utf-8")


def canonical_query(params: Mapping[str, str]) -> str:
    """Parameters sorted by name, `name=value` percent-encoded, joined by `&`."""
    return "&".join(f"{percent_encode(k)}={percent_encode(params[k])}" for k in sorted(params))


def sha256_hex(payload: bytes) -> str:
    """Lowercase hex SHA-256, the V3 payload hash."""
    return hashlib.sha256(payload).hexdigest()


def canonical_headers(headers: Mapping[str, str], names: Iterable[str]) -> tuple[str, str]:
    """The V3 canonical header block and the `;`-joined signed names, for the named headers."""
    lowered = {k.lower(): v for k, v in headers.items()}
    signed = sorted({name.lower() for name in names})
    block = "".join(f"{name}:{lowered.get(name, '').strip()}\n" for name in signed)
    return block, ";".join(signed)


def v3_headers_to_sign(headers: Mapping[str, str]) -> list[str]:
    """What we sign: host, content-type if sent, and every x-acs-* header."""
    return [k for k in headers if k.lower() in ("host", "content-type") or k.lower().startswith("x-acs-")]


def v3_string_to_sign(
    method: str,
    path: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    signed_names: Iterable[str],
    payload_hash: str,
) -> tuple[str, str]:
    """(string to sign, signed header names) of a V3 request."""
    block, signed = canonical_headers(headers, signed_names)
    canonical_request = "\n".join(
        [method.upper(), path or "/", canonical_query(query), block, signed, payload_hash]
    )
    digest = sha256_hex(canonical_request.encode("utf-8"))
    return f"{V3_ALGORITHM}\n{digest}", signed


def v3_signature(secret: str, string_to_sign: str) -> str:
    """Hex HMAC-SHA256 keyed with the raw secret."""
    return hmac.new(secret.encode("utf-8"), string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def v3_authorization(access_key_id: str, signed_names: str, signature: str) -> str:
    """The value of the `Authorization` header."""
    return f"{V3_ALGORITHM} Credential={access_key_id},SignedHeaders={signed_names},Signature={signature}"


def sign_v3(
    *,
    method: str,
    host: str,
    query: Mapping[str, str],
    action: str,
    version: str,
    body: bytes,
    access_key_id: str,
    access_key_secret: str,
    security_token: str | None,
    date: str,
    nonce: str,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """Every header a V3 request needs, `Authorization` included."""
    headers = {
        "host": host,
        "x-acs-action": action,
        "x-acs-version": version,
        "x-acs-date": date,
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": sha256_hex(body),
        **(extra_headers or {}),
    }
    if security_token:
        headers["x-acs-security-token"] = security_token
    string_to_sign, signed = v3_string_to_sign(
        method, "/", query, headers, v3_headers_to_sign(headers), headers["x-acs-content-sha256"]
    )
    headers["Authorization"] = v3_authorization(
        access_key_id, signed, v3_signature(access_key_secret, string_to_sign)
    )
    return headers


def v1_string_to_sign(method: str, params: Mapping[str, str]) -> str:
    """`METHOD&%2F&` + percent-encoded canonical query (the `Signature` parameter excluded)."""
    unsigned = {k: v for k, v in params.items() if k != "Signature"}
    return f"{method.upper()}&{percent_encode('/')}&{percent_encode(canonical_query(unsigned))}"


def v1_signature(secret: str, string_to_sign: str) -> str:
    """Base64 HMAC-SHA1 keyed with `secret&`."""
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode("utf-8"), hashlib.sha1).digest()
    return base64.b64encode(digest).decode("ascii")


def sign_v1(
    *,
    method: str,
    params: Mapping[str, str],
    action: str,
    version: str,
    access_key_id: str,
    access_key_secret: str,
    security_token: str | None,
    timestamp: str,
    nonce: str,
) -> dict[str, str]:
    """The request parameters with the V1 common parameters and `Signature` added."""
    signed = {
        **params,
        "Action": action,
        "Version": version,
        "Format": "JSON",
        "AccessKeyId": access_key_id,
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": nonce,
        "Timestamp": timestamp,
    }
    if security_token:
        signed["SecurityToken"] = security_token
    signed["Signature"] = v1_signature(access_key_secret, v1_string_to_sign(method, signed))
    return signed
