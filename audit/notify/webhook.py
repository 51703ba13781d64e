"""A JSON webhook of our own: a documented, versioned body, signed with HMAC-SHA256 over time and body.

The body follows `schemas/notification.schema.json` (version 1). Each request carries
`X-Vod-Audit-Timestamp` (Unix seconds) and `X-Vod-Audit-Signature: v1=<hex>`, the HMAC-SHA256 keyed by
the channel's secret over `timestamp + "." + body`, as GitHub's `X-Hub-Signature-256` and Stripe's
`Stripe-Signature` sign theirs: a receiver recomputes it, compares in constant time and refuses a
timestamp too far from its clock (docs/notifications.md shows how).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from dataclasses import asdict
from typing import Any

from audit import __version__
from audit.notify.channel import Outgoing, Refusal, Secrets, json_body
from audit.notify.message import Message

VERSION = 1
LIMIT = 256 << 10  # bytes of a body: max_jobs (at most 100) keeps it far below


def document(message: Message) -> dict[str, Any]:
    """The body, as the schema describes it."""
    return {
        "version": VERSION,
        "tool": f"vod-audit {__version__}",
        "event": message.event,
        "audit": message.audit,
        "run_id": message.run_id,
        "started_at": message.started_at,
        "verdict": message.verdict,
        "statement": message.statement,
        "failure": message.failure,
        "emulator": message.emulator,
        "counts": dict(message.counts),
        "changes": dict(message.changes),
        "needing_action": message.needing,
        "jobs": [asdict(line) for line in message.jobs],
        "more": message.more,
        "report_url": message.report_url,
    }


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"v1={mac.hexdigest()}"


class Webhook:
    kind = "webhook"
    reference = "https://docs.github.com/en/webhooks/using-webhooks/validating-webhook-deliveries"

    def prepare(self, message: Message, secrets: Secrets | None, now: float) -> Outgoing:
        body = json_body(document(message))
        stamp = int(now)
        headers = {
            "Content-Type": "application/json",
            "X-Vod-Audit-Event": message.event,
            "X-Vod-Audit-Delivery": str(uuid.uuid4()),
            "X-Vod-Audit-Timestamp": str(stamp),
        }
        if secrets and secrets.secret:
            headers["X-Vod-Audit-Signature"] = signature(secrets.secret, stamp, body)
        preview = json.dumps(document(message), ensure_ascii=False, indent=1)
        return Outgoing(secrets.url if secrets else "", body, headers, preview)

    def refused(self, status: int, body: bytes) -> Refusal | None:
        return None  # any 2xx is taken; the rest is read by the delivery
