"""E-mail over SMTP: plain text and the same summary as HTML, sent after STARTTLS (or over TLS).

The channel's URL (from the environment or a file) is `smtp://user:password@host:587` for STARTTLS
(RFC 3207) or `smtps://user:password@host:465` for implicit TLS (RFC 8314); user and password
percent-encoded. Every value is HTML-escaped in the HTML part.
"""

from __future__ import annotations

import html
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

from audit.common.channels import ChannelSpec
from audit.notify.channel import Outgoing, Refusal, Secrets
from audit.notify.message import Message
from audit.notify.text import counts_line, plain_job, where_line


def text_lines(message: Message) -> list[str]:
    lines = [message.statement, ""]
    if message.failure is None:
        lines += [counts_line(message), where_line(message), ""]
    if message.jobs:
        lines.append(f"Needs action ({message.needing}):")
        lines += [f"  {plain_job(line)}" for line in message.jobs]
        if message.more:
            lines.append(f"  and {message.more} more")
        lines.append("")
    if message.report_url:
        lines.append(f"Report: {message.report_url}")
    return lines


def _html(message: Message) -> str:
    e = html.escape
    parts = [f"<h2>{e(message.title)}</h2>", f"<p><strong>{e(message.statement)}</strong></p>"]
    if message.failure is None:
        parts.append(f"<p>{e(counts_line(message))}<br>{e(where_line(message))}</p>")
    if message.jobs:
        items = "".join(f"<li>{e(plain_job(line))}</li>" for line in message.jobs)
        more = f"<li>and {message.more} more</li>" if message.more else ""
        parts.append(f"<h3>Needs action ({message.needing})</h3><ul>{items}{more}</ul>")
    if message.report_url:
        parts.append(f'<p><a href="{e(message.report_url)}">Open the report</a></p>')
    return "<!doctype html><html><body>" + "".join(parts) + "</body></html>"


class Email:
    kind = "email"
    reference = "https://www.rfc-editor.org/rfc/rfc3207"

    def __init__(self, spec: ChannelSpec) -> None:
        self.spec = spec

    def prepare(self, message: Message, secrets: Secrets | None, now: float) -> Outgoing:
        mail = EmailMessage()
        mail["Subject"] = " ".join(f"{message.title}: {message.verdict}".split())
        mail["From"] = self.spec.sender or ""
        mail["To"] = ", ".join(self.spec.to)
        mail["Date"] = formatdate(now)
        mail["Message-ID"] = make_msgid("vod-audit")
        text = "\n".join(text_lines(message))
        mail.set_content(text)
        mail.add_alternative(_html(message), subtype="html")
        return Outgoing(
            secrets.url if secrets else "", mail.as_bytes(), {}, f"Subject: {mail['Subject']}\n\n{text}"
        )

    def refused(self, status: int, body: bytes) -> Refusal | None:
        return None  # SMTP answers are read by the delivery
