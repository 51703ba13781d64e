"""`vod-audit schema show`: print one of the JSON Schemas."""

from __future__ import annotations

import json
from collections.abc import Callable

from audit.schema.store import schema_document


def execute(name: str, *, echo: Callable[[str], None], err: Callable[[str], None]) -> int:
    echo(json.dumps(schema_document(name), indent=2, ensure_ascii=False))
    return 0
