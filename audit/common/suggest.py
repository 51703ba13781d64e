"""'Did you mean' hints for names a user mistyped."""

from __future__ import annotations

import difflib
from collections.abc import Iterable


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'X'?` for a near miss (or the same name in other letter case), else ''."""
    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if name.lower() in lowered:
        return f"; did you mean {lowered[name.lower()]!r}?"
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""
