"""Slack incoming webhook: one Block Kit message; its URL is its only credential.

Format (https://api.slack.com/messaging/webhooks, https://api.slack.com/reference/block-kit/blocks):
`text` as the notification's fallback and `blocks`; a header's text at most 150 characters, a
section's at most 3,000, at most 50 blocks. Untrusted text goes in `plain_text` objects, which Slack
does not format or link. Errors come back as HTTP 4xx with a short code (`invalid_payload`,
`no_service`), HTTP 429 with Retry-After when rate limited; a taken message is HTTP 200 `ok`.
"""

from __future__ import annotations

import json
from typing import Any

from audit.notify.channel import Outgoing, Refusal, Secrets, json_body
from audit.notify.message import Message
from audit.notify.text import counts_line, plain_job, short, where_line

SECTION = 3000  # characters of a section's text
BLOCKS = 50


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "plain_text", "text": text, "emoji": False}}


class Slack:
    kind = "slack"
    reference = "https://api.slack.com/messaging/webhooks"

    def prepare(self, message: Message, secrets: Secrets | None, now: float) -> Outgoing:
        blocks: list[dict[str, Any]] = [
            {"type": "header", "text": {"type": "plain_text", "text": short(message.title, 150)}},
            _section(short(message.statement, SECTION)),
        ]
        if message.failure is None:
            context = f"{counts_line(message)}\n{where_line(message)}"
            blocks.append({"type": "context", "elements": [{"type": "plain_text", "text": context}]})
        tail = [{"type": "actions", "elements": [_button(message.report_url)]}] if message.report_url else []
        lines = [plain_job(line) for line in message.jobs]
        if lines or message.more:
            sections, current = [], f"Needs action ({message.needing}):"
            for line in lines:
                if len(current) + 1 + len(line) > SECTION:
                    sections.append(current)
                    current = ""
                current = f"{current}\n{line}" if current else line
            sections.append(current)
            room = BLOCKS - len(blocks) - len(tail) - 1  # one left for "and N more"
            told = sum(section.count("\n") + 1 for section in sections[:room]) - 1
            blocks += [_section(section) for section in sections[:room]]
            untold = message.needing - min(told, len(lines))
            if untold:
                blocks.append(_section(f"and {untold} more"))
        # The top-level text is Slack mrkdwn (notifications read it): our words only, escaped as
        # Slack says (&, <, >), so that nothing from the API or a manifest mentions, links or formats.
        body = {"text": _escaped(f"{message.title}: {message.verdict}"), "blocks": blocks + tail}
        preview = json.dumps(body, ensure_ascii=False, indent=1)
        return Outgoing(
            secrets.url if secrets else "", json_body(body), {"Content-Type": "application/json"}, preview
        )

    def refused(self, status: int, body: bytes) -> Refusal | None:
        return None  # a 2xx answer is Slack's "ok"; errors arrive as 4xx, read by the delivery


def _escaped(text: str) -> str:
    """Text in Slack mrkdwn as Slack's formatting page asks: &, < and > as entities."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _button(url: str | None) -> dict[str, Any]:
    return {"type": "button", "text": {"type": "plain_text", "text": "Open the report"}, "url": url}
