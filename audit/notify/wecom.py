"""WeCom (企业微信) group robot: one Markdown message; its URL (with `key=`) is its only credential.

Format and limits (https://developer.work.weixin.qq.com/document/path/91770): `msgtype: markdown`,
`content` at most 4,096 bytes of UTF-8; at most 20 messages a minute per robot; an answer is HTTP 200
with `errcode` 0, any other `errcode` is a refusal (45009: the frequency limit was passed).
"""

from __future__ import annotations

from audit.notify.channel import Outgoing, Refusal, Secrets, code_refusal, json_body
from audit.notify.message import Message
from audit.notify.text import markdown

LIMIT = 4096  # bytes of `content`, as documented


class WeCom:
    kind = "wecom"
    reference = "https://developer.work.weixin.qq.com/document/path/91770"

    def prepare(self, message: Message, secrets: Secrets | None, now: float) -> Outgoing:
        text = markdown(message, LIMIT)
        body = json_body({"msgtype": "markdown", "markdown": {"content": text}})
        return Outgoing(secrets.url if secrets else "", body, {"Content-Type": "application/json"}, text)

    def refused(self, status: int, body: bytes) -> Refusal | None:
        return code_refusal(body, ("errcode",), ("errmsg",))
