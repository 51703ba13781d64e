"""Readings of jsonschema errors shared by the manifest check and the response validator."""

from __future__ import annotations

from typing import Any


def unknown_properties(error: Any) -> list[str]:
    """The names an `additionalProperties: false` error is about, sorted; [] for any other error."""
    if error.validator != "additionalProperties" or not isinstance(error.instance, dict):
        return []
    known = error.schema.get("properties", {})
    return sorted((name for name in error.instance if name not in known), key=str)


def custom_message(error: Any) -> str | None:
    """`'value' <x-message>` where the failing schema words its own message for this keyword; where
    it is marked `x-secret` (a place a secret is pasted by mistake), `the value <x-message>`."""
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if custom and error.validator in ("pattern", "type"):
        shown = "the value" if error.schema.get("x-secret") else repr(error.instance)
        return f"{shown} {custom}"
    return None


def json_type(value: Any) -> str:
    """The JSON type name of a Python value from a parsed document."""
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


_ARTICLES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "number": "a number",
    "integer": "an integer",
    "boolean": "true or false",
    "null": "nothing",
}


def described_type(kind: Any) -> str:
    """A JSON Schema `type` value in words: `a mapping`, `a string or nothing`."""
    if isinstance(kind, list):
        return " or ".join(_ARTICLES.get(k, str(k)) for k in kind)
    return _ARTICLES.get(kind, str(kind))
