"""`vod-audit schema validate`: check saved GetJobDetail bodies against the schemas."""

from __future__ import annotations

from collections.abc import Iterable

from audit.common.errors import ExitStatus, UserError
from audit.common.jsonfile import read_json
from audit.common.terminal import Echo
from audit.schema.validate import is_valid, validate_response


def execute(paths: Iterable[str], *, strict: bool, echo: Echo, err: Echo) -> ExitStatus:
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
            label = "" if violation.severity == "violation" else f"{violation.severity}: "
            echo(f"{path}: {violation.pointer or '(root)'}: {label}{violation.message}")
    if unreadable:
        return ExitStatus.ERROR
    return ExitStatus.FINDINGS if invalid else ExitStatus.OK
