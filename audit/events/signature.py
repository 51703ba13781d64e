"""VOD's HTTP callback signature: MD5 of `<callback URL>|<X-VOD-TIMESTAMP>|<AuthKey>`, and its age.

"HTTP callback authentication" (https://www.alibabacloud.com/help/en/vod/user-guide/http-callbacks):
X-VOD-TIMESTAMP is the Unix time in seconds when the callback is sent; X-VOD-SIGNATURE the 32
lower-case hex digits of md5sum(callback URL|X-VOD-TIMESTAMP|PrivateKey). The body is not signed: a
stored body is a hint, which the audit confirms with GetJobDetail.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping

DEFAULT_SKEW = 300.0  # seconds a timestamp may be older or newer than now


def signature(callback_url: str, timestamp: str, auth_key: str) -> str:
    return hashlib.md5(f"{callback_url}|{timestamp}|{auth_key}".encode(), usedforsecurity=False).hexdigest()


def refused(
    headers: Mapping[str, str], callback_url: str, auth_key: str, now: float, max_skew: float = DEFAULT_SKEW
) -> str | None:
    """Why a delivery is refused (None: it is VOD's): no or a wrong signature, a timestamp out of skew.
    Signatures are compared in constant time; the words never hold the key or the signature expected."""
    stamp, given = headers.get("X-VOD-TIMESTAMP", ""), headers.get("X-VOD-SIGNATURE", "")
    if not stamp or not given:
        return "no X-VOD-TIMESTAMP or X-VOD-SIGNATURE"
    if not stamp.isascii() or not stamp.isdigit() or len(stamp) > 12:
        return "X-VOD-TIMESTAMP is not a Unix time in seconds"
    if abs(now - int(stamp)) > max_skew:
        return f"X-VOD-TIMESTAMP is {int(now - int(stamp))} s away from now (allowed ±{max_skew:g} s)"
    if not hmac.compare_digest(
        signature(callback_url, stamp, auth_key).encode(), given.strip().lower().encode()
    ):
        return "X-VOD-SIGNATURE does not match"
    return None
