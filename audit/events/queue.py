"""A Simple Message Queue (formerly MNS) queue's consumer calls, hand-signed over bounded HTTP.

BatchReceiveMessage (`GET /queues/NAME/messages?numOfMessages=16&waitseconds=N`, long polling; no
message is 404 MessageNotExist: https://www.alibabacloud.com/help/en/mns/developer-reference/receivemessage)
and BatchDeleteMessage (`DELETE /queues/NAME/messages`, an XML list of receipt handles; 204 when
every one was deleted, else the failed ones in `<Errors>`:
https://www.alibabacloud.com/help/en/mns/developer-reference/batchdeletemessage).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from audit.vod import mns
from audit.vod.keys import KeyHolder, redact
from audit.vod.transport import BoundedAdapter, Reply, send

# A queue name: letters, digits and hyphens, a letter or digit first, 256 at most (ALIYUN::MNS::Queue,
# https://www.alibabacloud.com/help/en/ros/developer-reference/aliyun-mns-queue).
QUEUE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9-]{0,255}")
LIMIT = 4 << 20  # bytes of one answer: 16 messages of 64 KiB each, base64-encoded, fit
SLACK = 10.0  # seconds an answer may take beyond the long poll it asked for


@dataclass(frozen=True)
class QueueError(Exception):
    """The queue service refused a call: its status, error code and message (keys redacted)."""

    status: int
    code: str
    message: str

    def __str__(self) -> str:
        return f"{self.code} (HTTP {self.status}): {self.message}"

    @property
    def hopeless(self) -> bool:
        """No later call can succeed: keys, permissions, the queue's name or the endpoint are wrong
        (the codes and statuses of https://www.alibabacloud.com/help/en/mns/error-codes)."""
        return self.status in (401, 403) or self.code in ("QueueNotExist", "InvalidAccessKeyId")


class QueueClient:
    """One queue's receive and delete calls, signed with the keys the holder has now."""

    def __init__(
        self, endpoint: str, queue: str, keys: KeyHolder, clock: Callable[[], float] = time.time
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.queue = queue
        self._keys = keys
        self._clock = clock
        self._adapter = BoundedAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)

    def receive(self, wait: int) -> list[mns.Message]:
        """Up to 16 messages, waiting up to `wait` seconds for the first; [] when none came."""
        resource = f"/queues/{self.queue}/messages?numOfMessages={mns.BATCH}&waitseconds={wait}"
        reply = self._call("GET", resource, b"", wait + SLACK)
        if reply.status == 200:
            try:
                return mns.messages(reply.body)
            except ValueError as exc:
                raise QueueError(reply.status, "UnreadableAnswer", str(exc)) from None
        if reply.status == 404 and self._codes(reply) == ["MessageNotExist"]:
            return []
        raise self._error(reply)

    def delete(self, handles: Sequence[str]) -> list[dict[str, str]]:
        """Deletes the messages of these receipt handles (16 at most); the entries that failed."""
        reply = self._call("DELETE", f"/queues/{self.queue}/messages", mns.receipt_handles(handles), SLACK)
        if reply.status == 204:
            return []
        failed = [entry for entry in mns.errors(reply.body) if "ReceiptHandle" in entry]
        if failed:
            return failed
        raise self._error(reply)

    def close(self) -> None:
        self._adapter.close()

    def _call(self, method: str, resource: str, body: bytes, timeout: float) -> Reply:
        keys = self._keys.current()
        token = keys.security_token.reveal() if keys.security_token else None
        headers = mns.signed_headers(
            method, resource, body, keys.access_key_id, keys.access_key_secret.reveal(), token, self._clock()
        )
        return send(
            method,
            self.endpoint + resource,
            headers=headers,
            data=body or None,
            timeout=timeout,
            limit=LIMIT,
            adapter=self._adapter,
        )

    @staticmethod
    def _codes(reply: Reply) -> list[str]:
        return [entry.get("Code", entry.get("ErrorCode", "")) for entry in mns.errors(reply.body)]

    def _error(self, reply: Reply) -> QueueError:
        entries = mns.errors(reply.body)
        entry = entries[0] if entries else {}
        code = entry.get("Code") or entry.get("ErrorCode") or f"HTTP{reply.status}"
        message = entry.get("Message") or entry.get("ErrorMessage") or "no error document"
        return QueueError(reply.status, code, redact(message, self._keys.current().secrets)[:300])
