"""`vod-audit schema show`: print one of the JSON Schemas."""

from __future__ import annotations

import json

from audit.common.errors import ExitStatus
from audit.common.schemafiles import schema_document
from audit.common.terminal import Echo


def execute(name: str, *, echo: Echo, err: Echo) -> ExitStatus:
    echo(json.dumps(schema_document(name), indent=2, ensure_ascii=False))
    return ExitStatus.OK
