"""`vod-audit verify`: check report folders against their SHA256SUMS, signature and chain, as an auditor would."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path

from audit.common.errors import ExitStatus, UserError
from audit.common.files import file_sha256, read_input
from audit.common.terminal import Echo
from audit.evidence import sshsig
from audit.report import SUMS

_LINE = re.compile(r"([0-9a-f]{64}) [ *](.+)")
EVIDENCE = "evidence.json"


def execute(
    folders: Sequence[str],
    *,
    allowed_signers: str | None = None,
    identity: str | None = None,
    chain: bool = False,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    """Per folder: the signature (with `allowed_signers`), then `NAME: OK` or `NAME: FAILED (why)` for
    each file; with `chain`, each folder's evidence must name the one before. 0 all hold, 2 any not."""
    if len(folders) > 1 and not chain:
        raise UserError("give one folder, or several with --chain (oldest first)")
    good = True
    for index, folder in enumerate(folders):
        prefix = f"{folder}: " if len(folders) > 1 else ""
        if allowed_signers is not None:
            good &= _signature(Path(folder), Path(allowed_signers), identity, prefix, echo)
        elif (Path(folder) / sshsig.SIGNATURE).exists():
            good &= _self_signed(Path(folder), prefix, echo)
        good &= _files(Path(folder), prefix, echo)
        if chain and index:
            good &= _linked(Path(folders[index - 1]), Path(folder), echo)
    return ExitStatus.OK if good else ExitStatus.FINDINGS


def _signature(folder: Path, allowed: Path, identity: str | None, prefix: str, echo: Echo) -> bool:
    """Whether SHA256SUMS.sig is a good signature of SHA256SUMS by a signer of `allowed` (by
    `identity`, when given): what `ssh-keygen -Y verify` says, put in one line."""
    if not allowed.is_file():
        raise UserError(f"--allowed-signers {allowed}: no such file")
    signature, sums = folder / sshsig.SIGNATURE, folder / SUMS
    if not signature.is_file():
        echo(f"{prefix}{sshsig.SIGNATURE}: FAILED (missing: the set is not signed)")
        return False
    names = [identity] if identity else sshsig.principals(signature, allowed)
    signer = next(
        (name for name in names if sums.is_file() and sshsig.verified(sums, signature, allowed, name)), None
    )
    if signer is None:
        who = f"by {identity}" if identity else "by any signer of the allowed signers file"
        echo(f"{prefix}{sshsig.SIGNATURE}: FAILED (not a good {sshsig.NAMESPACE} signature of {SUMS} {who})")
        return False
    echo(f"{prefix}{sshsig.SIGNATURE}: OK (signed by {signer})")
    return True


def _self_signed(folder: Path, prefix: str, echo: Echo) -> bool:
    """Without allowed signers, a signature is still checked against the key it carries: a set
    changed and re-summed after signing fails (who signed is not known until --allowed-signers)."""
    signature, sums = folder / sshsig.SIGNATURE, folder / SUMS
    key = sshsig.self_signed(sums, signature) if sums.is_file() and signature.is_file() else None
    if key is None:
        echo(f"{prefix}{sshsig.SIGNATURE}: FAILED (not a good {sshsig.NAMESPACE} signature of {SUMS})")
        return False
    echo(f"{prefix}{sshsig.SIGNATURE}: OK (signed by {key}, signer not checked: give --allowed-signers)")
    return True


def _files(folder: Path, prefix: str, echo: Echo) -> bool:
    """Every file SHA256SUMS lists matches it, and the folder holds nothing else (one run's set)."""
    sums = folder / SUMS
    try:
        listing = read_input(sums).decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(
            f"{sums}: cannot read it ({getattr(exc, 'strerror', None) or exc}); nothing to verify against"
        ) from None
    failed = 0
    listed: set[str] = set()
    for number, line in enumerate(listing.splitlines(), start=1):
        match = _LINE.fullmatch(line)
        if match is None or "/" in match[2] or match[2] in (".", ".."):
            # A sealed set's SHA256SUMS is evidence too: a line that no longer parses was changed
            # after sealing, so the set fails verification (exit 2), it is not bad input (exit 1).
            echo(
                f"{prefix}{SUMS}:{number}: FAILED (not a line of sha256sum output for a file of this folder)"
            )
            failed += 1
            continue
        expected, name = match[1], match[2]
        listed.add(name)
        try:
            actual = file_sha256(folder / name)
        except OSError as exc:
            echo(f"{prefix}{name}: FAILED ({exc.strerror or exc})")
            failed += 1
            continue
        if actual == expected:
            echo(f"{prefix}{name}: OK")
        else:
            echo(f"{prefix}{name}: FAILED (changed since it was written)")
            failed += 1
    # A folder holds one run's set: anything else (an earlier run's report, a file put there since)
    # would be read as part of the evidence without being covered by the seal.
    extras = sorted(e.name for e in folder.iterdir() if e.name not in listed | {SUMS, sshsig.SIGNATURE})
    if not listed and not failed and not extras:
        raise UserError(f"{sums}: lists no file, and the folder holds none: nothing to verify")
    for extra in extras:
        echo(f"{prefix}{extra}: FAILED (not in {SUMS}: not part of this run's set)")
    echo(
        f"{prefix}{len(listed) - failed} of {len(listed)} files match {SUMS}"
        + (f"; {len(extras)} not listed" if extras else "")
    )
    return not failed and not extras


def _linked(before: Path, after: Path, echo: Echo) -> bool:
    """Whether `after`'s evidence names `before`'s SHA256SUMS as the set that came before it."""
    try:
        previous = json.loads(read_input(after / EVIDENCE))["previous"]["sha256sums"]
    except (OSError, ValueError, KeyError, TypeError):
        echo(f"{after}: {EVIDENCE}: FAILED (missing or unreadable: no link to the night before)")
        return False
    if previous == file_sha256(before / SUMS):
        echo(f"{after}: follows {before} (its evidence names that set's {SUMS})")
        return True
    echo(
        f"{after}: FAILED (its evidence names another set before it than {before}: a night is missing or replaced)"
    )
    return False
