"""A delivery checked as VOD's: its signature (audit.vod.callback) and the age of its timestamp.

The body is not signed: a stored body is a hint, which the audit confirms with GetJobDetail.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from audit.vod.callback import callback_signature

DEFAULT_SKEW = 300.0  # seconds a timestamp may be older or newer than now


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
        callback_signature(callback_url, stamp, auth_key).encode(), given.strip().lower().encode()
    ):
        return "X-VOD-SIGNATURE does not match"
    return None
