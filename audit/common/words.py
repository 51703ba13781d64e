"""Counted nouns in the tool's sentences: `1 job`, `2 jobs`, never `1 jobs`."""

from __future__ import annotations


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """`count` and the noun, singular for one (`plural`, else noun + s, for any other count)."""
    return f"{count} {noun if count == 1 else plural or noun + 's'}"
