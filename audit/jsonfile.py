"""Reads JSON documents from disk strictly, turning every failure into a UserError."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from audit.errors import UserError


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str | bytes) -> Any:
    """Standard JSON only: NaN and Infinity, which Python would accept, are refused."""
    return json.loads(text, parse_constant=_reject_constant)


def compact_json(value: Any) -> str:
    """The one compact form of JSON this tool writes for a document it stores or embeds."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def read_json(path: str | Path) -> Any:
    """The parsed document at `path`, or a UserError saying why it cannot be read."""
    try:
        raw = Path(path).read_bytes()
    except IsADirectoryError:
        raise UserError(f"{path}: is a directory, not a file") from None
    except OSError as exc:
        raise UserError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{path}: not UTF-8 text (byte {exc.start})") from None
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        raise UserError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{path}: not valid JSON: {exc}") from None
