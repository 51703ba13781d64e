"""Feishu/Lark custom bot: one interactive card, signed when the bot's signature verification is on.

Signature (https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot): `timestamp` in
*seconds* and `sign` = Base64 of HMAC-SHA256 *keyed by* `timestamp + "\\n" + secret` over an empty
message (key and message the reverse of DingTalk's), both in the JSON body. The same page: a request
body of at most 20 KB; an answer with `code` 0 is taken, any other `code` is a refusal even under
HTTP 200 (19021: the signature does not match or the timestamp is over an hour off). Card text is
`plain_text`, so nothing from the API is formatted or linked.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from audit.notify.channel import Outgoing, Refusal, Secrets, code_refusal, json_body
from audit.notify.message import Message
from audit.notify.text import counts_line, fit, plain_job, short, where_line

LIMIT = 20_000  # bytes of the request body ("20 KB"), kept below 20 KiB either way it is read
_COLOUR = {
    "PASS": "green",
    "FAIL": "red",
    "FAILED": "red",
    "ERRORS": "orange",
    "INCOMPLETE": "orange",
    "EMPTY": "orange",
}


def signature(secret: str, timestamp_s: int) -> str:
    """`sign` as Feishu checks it."""
    digest = hmac.new(f"{timestamp_s}\n{secret}".encode(), b"", hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _plain(text: str) -> dict[str, Any]:
    return {"tag": "div", "text": {"tag": "plain_text", "content": text}}


class Feishu:
    kind = "feishu"
    reference = "https://open.feishu.cn/document/client-docs/bot-v3/add-custom-bot"

    def prepare(self, message: Message, secrets: Secrets | None, now: float) -> Outgoing:
        signed: dict[str, Any] = {}
        if secrets and secrets.secret:
            stamp = int(now)
            signed = {"timestamp": str(stamp), "sign": signature(secrets.secret, stamp)}

        def render(kept: list[str], untold: int) -> str:
            elements = [_plain(message.statement)]
            if message.failure is None:
                elements.append(_plain(f"{counts_line(message)}\n{where_line(message)}"))
            if kept or untold:
                listed = "\n".join(kept + ([f"and {untold} more"] if untold else []))
                elements += [{"tag": "hr"}, _plain(f"Needs action ({message.needing}):\n{listed}")]
            if message.report_url:
                button = {"tag": "plain_text", "content": "Open the report"}
                elements.append(
                    {
                        "tag": "action",
                        "actions": [{"tag": "button", "text": button, "url": message.report_url}],
                    }
                )
            card = {
                "header": {
                    "title": {"tag": "plain_text", "content": short(message.title, 100)},
                    "template": _COLOUR.get(message.verdict, "blue"),
                },
                "elements": elements,
            }
            return json.dumps({**signed, "msg_type": "interactive", "card": card}, ensure_ascii=False)

        lines = [f"• {plain_job(line)}" for line in message.jobs]
        text = fit(lines, message.more, render, LIMIT)
        body = json_body(json.loads(text))
        preview = json.dumps(json.loads(text), ensure_ascii=False, indent=1)
        return Outgoing(secrets.url if secrets else "", body, {"Content-Type": "application/json"}, preview)

    def refused(self, status: int, body: bytes) -> Refusal | None:
        return code_refusal(body, ("code", "StatusCode"), ("msg", "StatusMessage"))
