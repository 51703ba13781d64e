"""`vod-audit verify`: check a report folder against its SHA256SUMS, as `sha256sum -c` would."""

from __future__ import annotations

import re
from pathlib import Path

from audit.errors import ExitStatus, UserError
from audit.files import file_sha256, read_input
from audit.report import SUMS
from audit.terminal import Echo

_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")


def execute(folder: str, *, echo: Echo, err: Echo) -> ExitStatus:
    """Prints `NAME: OK` or `NAME: FAILED (why)` for each listed file; 0 all match, 2 any does not."""
    sums = Path(folder) / SUMS
    try:
        listing = read_input(sums).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{sums}: cannot read it ({getattr(exc, 'strerror', None) or exc}); nothing to verify against"
        ) from None
    failed = checked = 0
    listed: set[str] = set()
    for number, line in enumerate(listing.splitlines(), start=1):
        match = _LINE.fullmatch(line)
        if match is None or "/" in match[2] or match[2] in (".", ".."):
            raise UserError(f"{sums}:{number}: not a line of sha256sum output for a file of this folder")
        expected, name = match[1], match[2]
        checked += 1
        listed.add(name)
        try:
            actual = file_sha256(Path(folder) / name)
        except OSError as exc:
            echo(f"{name}: FAILED ({exc.strerror or exc})")
            failed += 1
            continue
        if actual == expected:
            echo(f"{name}: OK")
        else:
            echo(f"{name}: FAILED (changed since it was written)")
            failed += 1
    if not checked:
        raise UserError(f"{sums}: lists no file")
    # A folder holds one run's set: anything else (an earlier run's report, a file put there since)
    # would be read as part of the evidence without being covered by the seal.
    extras = sorted(entry.name for entry in Path(folder).iterdir() if entry.name not in listed | {SUMS})
    for extra in extras:
        echo(f"{extra}: FAILED (not in {SUMS}: not part of this run's set)")
    echo(
        f"{checked - failed} of {checked} files match {SUMS}"
        + (f"; {len(extras)} not listed" if extras else "")
    )
    return ExitStatus.FINDINGS if failed or extras else ExitStatus.OK
