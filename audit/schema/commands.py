"""The `vod-audit schema` commands: validate saved responses, show a schema."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable

from audit.errors import UserError
from audit.jsonfile import read_json
from audit.schema.store import load
from audit.schema.validate import is_valid, validate_response

EXIT_VALID, EXIT_UNREADABLE, EXIT_INVALID = 0, 1, 2


def validate_files(paths: Iterable[str], *, strict: bool, echo: Callable[[str], None]) -> int:
    """Prints `FILE: ok` or `FILE: /pointer: message` lines; returns the exit code."""
    unreadable = invalid = False
    for path in paths:
        try:
            body = read_json(path)
        except UserError as exc:
            echo(str(exc))
            unreadable = True
            continue
        violations = validate_response(body, strict=strict)
        if is_valid(violations):
            echo(f"{path}: ok")
        else:
            invalid = True
        for violation in violations:
            label = "note: " if violation.severity == "note" else ""
            echo(f"{path}: {violation.pointer or '(root)'}: {label}{violation.message}")
    if unreadable:
        return EXIT_UNREADABLE
    return EXIT_INVALID if invalid else EXIT_VALID


def show(name: str) -> str:
    """The schema published under `name`, as indented JSON."""
    return json.dumps(load(name), indent=2, ensure_ascii=False)
