"""The JSON Schema data files shipped with the package, and a digest of them and of the code."""

from __future__ import annotations

import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any

# Names users type (`vod-audit schema show NAME`) and the file each one is.
PUBLIC_SCHEMAS = {
    "envelope": "envelope.schema.json",
    "transcode": "transcode.schema.json",
    "snapshot": "snapshot.schema.json",
    "ai": "ai.schema.json",
    "workflow": "workflow.schema.json",
    "error": "error.schema.json",
    "manifest": "manifest.schema.json",
    "notification": "notification.schema.json",
    "search-media": "search-media.schema.json",
    "list-job-info": "list-job-info.schema.json",
    "play-info": "play-info.schema.json",
    "mezzanine-info": "mezzanine-info.schema.json",
}


def schema_dir() -> Path:
    """The folder holding the schema files: inside the wheel, or the checkout's `schemas/`."""
    package = Path(__file__).resolve().parent.parent
    for candidate in (package / "schemas", package.parent / "schemas"):
        if (candidate / "envelope.schema.json").is_file():
            return candidate
    raise FileNotFoundError(f"schema files not found beside {package}")


@cache
def all_schemas() -> dict[str, dict[str, Any]]:
    """Every schema file, keyed by its `$id`."""
    schemas = {}
    for path in sorted(schema_dir().glob("*.schema.json")):
        document = json.loads(path.read_text(encoding="utf-8"))
        schemas[document["$id"]] = document
    return schemas


def schema_document(name: str) -> dict[str, Any]:
    """The schema published under a public name such as `transcode`, as a fresh copy."""
    document: dict[str, Any] = json.loads((schema_dir() / PUBLIC_SCHEMAS[name]).read_text(encoding="utf-8"))
    return document


@cache
def tool_digest() -> str:
    """A digest of the package's code and schema files: what a cache or a kept judgement was made
    by; neither outlives the code that made it."""
    combined = hashlib.sha256()
    package = Path(__file__).resolve().parents[1]
    for path in sorted([*package.rglob("*.py"), *schema_dir().glob("*.json")]):
        combined.update(path.name.encode() + b"\0" + path.read_bytes())
    return combined.hexdigest()
