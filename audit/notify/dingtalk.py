"""DingTalk custom robot: one Markdown message, signed when the robot's "signing" security setting is on.

Signature (https://open.dingtalk.com/document/robots/customize-robot-security-settings): `timestamp`
in milliseconds and `sign` = URL-encoded Base64 of HMAC-SHA256 *keyed by the secret* over
`timestamp + "\\n" + secret`, both appended to the webhook URL. Messages
(https://open.dingtalk.com/document/orgapp/custom-bot-send-message-type): `msgtype: markdown` with a
`title` and `text`; an answer is HTTP 200 with `errcode` 0, any other `errcode` is a refusal (310000:
signature, keyword or IP check failed; 130101: more than 20 messages a minute, the robot is then
throttled for 10 minutes).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from urllib.parse import quote_plus

from audit.notify.channel import Outgoing, Refusal, Secrets, code_refusal, json_body
from audit.notify.message import Message
from audit.notify.text import markdown, short

# DingTalk documents no size for a Markdown text; we keep within the 4,096 bytes WeCom documents for
# the same kind of robot message (our inference, not a DingTalk rule).
LIMIT = 4096


def signature(secret: str, timestamp_ms: int) -> str:
    """`sign` as DingTalk checks it, URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


class DingTalk:
    kind = "dingtalk"
    reference = "https://open.dingtalk.com/document/robots/customize-robot-security-settings"

    def prepare(self, message: Message, secrets: Secrets | None, now: float) -> Outgoing:
        text = markdown(message, LIMIT)
        body = json_body(
            {"msgtype": "markdown", "markdown": {"title": short(message.title, 60), "text": text}}
        )
        url = secrets.url if secrets else ""
        if secrets and secrets.secret:
            stamp = int(now * 1000)
            joiner = "&" if "?" in url else "?"
            url = f"{url}{joiner}timestamp={stamp}&sign={signature(secrets.secret, stamp)}"
        return Outgoing(url, body, {"Content-Type": "application/json; charset=utf-8"}, text)

    def refused(self, status: int, body: bytes) -> Refusal | None:
        return code_refusal(body, ("errcode",), ("errmsg",))
