"""Reads JSON documents from disk strictly, turning every failure into a UserError."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from audit.common.errors import UserError
from audit.common.files import read_input


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json(text: str | bytes) -> Any:
    """Standard JSON only: NaN and Infinity, which Python would accept, are refused."""
    return json.loads(text, parse_constant=_reject_constant)


def parse_answer(text: str) -> tuple[Any, tuple[str, ...]]:
    """A document as parse_json reads it, and what I-JSON (RFC 7493 §2) forbids in it though JSON's
    grammar allows it: duplicate member names (the last one wins here, silently, in most readers)
    and numbers beyond the range of a double (Python reads 1e400 as infinity)."""
    anomalies: list[str] = []

    def members(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, value in pairs:
            if name in found:
                anomalies.append(f"duplicate member name {name!r}: the answer says two things at once")
            found[name] = value
        return found

    def number(literal: str) -> float:
        value = float(literal)
        if not math.isfinite(value):
            anomalies.append(f"number {literal[:40]} is beyond the range of a double")
        return value

    document = json.loads(
        text, object_pairs_hook=members, parse_float=number, parse_constant=_reject_constant
    )
    return document, tuple(anomalies)


def compact_json(value: Any) -> str:
    """The one compact form of JSON this tool writes for a document it stores or embeds."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def unreadable(path: str | Path, exc: OSError) -> UserError:
    """Why an input file cannot be read, as one line."""
    if isinstance(exc, IsADirectoryError):
        return UserError(f"{path}: is a directory, not a file")
    return UserError(f"{path}: cannot read: {exc.strerror or exc}")


def read_json(path: str | Path) -> Any:
    """The parsed document at `path`, or a UserError saying why it cannot be read."""
    try:
        raw = read_input(path)
    except OSError as exc:
        raise unreadable(path, exc) from None
    return parse_input(raw, path)


def parse_input(raw: bytes, path: str | Path, line: int | None = None) -> Any:
    """`raw` (the whole file, or its `line`) parsed, or a UserError at the place it is not JSON."""
    where = f"{path}:{line}" if line else f"{path}"
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UserError(f"{where}: not UTF-8 text (byte {exc.start})") from None
    try:
        return parse_json(text)
    except json.JSONDecodeError as exc:
        at = (line or 1) + exc.lineno - 1
        raise UserError(f"{path}:{at}:{exc.colno}: not valid JSON: {exc.msg}") from None
    except (ValueError, RecursionError) as exc:
        raise UserError(f"{where}: not valid JSON: {exc}") from None
