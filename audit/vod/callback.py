"""VOD's HTTP callback signature, which the emulator makes and the receiver checks.

"HTTP callback authentication" (https://www.alibabacloud.com/help/en/vod/user-guide/http-callbacks):
X-VOD-SIGNATURE is the 32 lower-case hex digits of md5sum(callback URL|X-VOD-TIMESTAMP|PrivateKey),
X-VOD-TIMESTAMP the Unix time in seconds when the callback is sent. The body is not signed.
"""

from __future__ import annotations

import hashlib


def callback_signature(callback_url: str, timestamp: str, auth_key: str) -> str:
    return hashlib.md5(f"{callback_url}|{timestamp}|{auth_key}".encode(), usedforsecurity=False).hexdigest()


def signed_headers(callback_url: str, timestamp: int, auth_key: str) -> dict[str, str]:
    """The two headers VOD adds to a callback."""
    stamp = str(timestamp)
    return {"X-VOD-TIMESTAMP": stamp, "X-VOD-SIGNATURE": callback_signature(callback_url, stamp, auth_key)}
