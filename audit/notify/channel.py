"""The one interface every notifier implements, and what passes through it: secrets in, a request out."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from audit.notify.message import Message


@dataclass(frozen=True)
class Secrets:
    """A channel's URL (its credential for most platforms) and signing secret, read at send time."""

    url: str = field(repr=False)
    secret: str | None = field(default=None, repr=False)


@dataclass(frozen=True)
class Outgoing:
    """One request ready to send: no secret in `preview`, which --dry-run prints."""

    url: str = field(repr=False)
    body: bytes = field(repr=False)
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    preview: str = ""


class Refusal(NamedTuple):
    """A platform's no: why, in its own words, and whether asking again later may succeed."""

    why: str
    retry: bool


class Channel(Protocol):
    """A notifier: turns a Message into a request for its platform and reads the platform's answer."""

    kind: str  # the manifest's `type:`
    reference: str  # the platform page its format, signature and limits come from

    def prepare(self, message: Message, secrets: Secrets | None, now: float) -> Outgoing:
        """The request carrying `message`; without secrets (a dry run), unsigned and addressed nowhere."""
        ...

    def refused(self, status: int, body: bytes) -> Refusal | None:
        """None when an HTTP answer says the message was taken, else the platform's refusal."""
        ...


def json_body(payload: Any) -> bytes:
    """A request body as the platforms read it: UTF-8 JSON, characters as they are."""
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def code_refusal(body: bytes, code_keys: tuple[str, ...], message_keys: tuple[str, ...]) -> Refusal | None:
    """The refusal an HTTP 200 answer carries as a non-zero code (DingTalk `errcode`, Feishu `code`,
    WeCom `errcode`): a failure, never a success; None when the code is 0."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return Refusal(f"the answer is not JSON ({len(body)} bytes)", retry=False)
    if not isinstance(answer, dict):
        return Refusal("the answer is not a JSON object", retry=False)
    code = next((answer[key] for key in code_keys if key in answer), None)
    if code in (0, "0"):
        return None
    if code is None:
        return Refusal("the answer has no status code", retry=False)
    # The code alone: a receiver's own words may echo the request, and with it the URL's token.
    return Refusal(f"code {platform_code(code)}", retry=False)


_CODE = re.compile(r"[A-Za-z0-9_.-]{1,64}")


def platform_code(value: Any) -> str:
    """A platform's error code as a message may quote it: a number or a short token; anything else
    a receiver sent is never quoted (it may echo the request's path, query or token)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value if isinstance(value, str) and _CODE.fullmatch(value) else "(not a code: withheld)"


def answer_code(body: bytes) -> str | None:
    """The error code an answer's JSON carries (`errcode`, `code`, `error`), as platform_code says it."""
    try:
        answer = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        text = body.decode("utf-8", "replace").strip()
        return text if _CODE.fullmatch(text) else None  # Slack answers a bare token: invalid_token
    if not isinstance(answer, dict):
        return None
    code = next((answer[key] for key in ("errcode", "code", "error") if key in answer), None)
    return None if code is None else platform_code(code)
