"""Answer bodies as the SQLite state keeps them: compressed when that pays, read back as text."""

from __future__ import annotations

import zlib

PACK_FROM = 256  # characters: a shorter body is kept as text; deflate would not pay for its CPU


def pack(text: str) -> str | bytes:
    """A body as the SQLite state keeps it: zlib (level 1: most of the gain for a fraction of the
    CPU) of its UTF-8 when long enough, else the text itself. A BLOB is never a text, so the two
    need no marker, and rows written before are read as they are."""
    return text if len(text) < PACK_FROM else zlib.compress(text.encode(), 1)


def unpack(value: str | bytes) -> str:
    """The body's text, as `pack` kept it."""
    return value if isinstance(value, str) else zlib.decompress(value).decode()
