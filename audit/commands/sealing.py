"""A report set written, sealed by SHA256SUMS and, when asked, signed: what run and report share."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from audit.common.files import file_sha256
from audit.evidence.sshsig import Signer, sign
from audit.report import FORMAT_NAMES, SUMS, write_reports
from audit.results.record import RunRecord

Signing = tuple[str | None, str | None]  # --sign KEY, --sign-key PUB


def signer_of(signing: Signing) -> Signer | None:
    """`--sign KEY` / `--sign-key PUB`, checked before any work is done."""
    return Signer.of(*signing, os.environ)


def write_set(
    run: RunRecord, out: Path, formats: Sequence[str], signer: Signer | None
) -> tuple[list[Path], str]:
    """Every report, SHA256SUMS and (with a signer) SHA256SUMS.sig; the paths and the sums' digest."""
    written = write_reports(run, out, formats or FORMAT_NAMES)
    if signer is not None:
        written.append(sign(out / SUMS, signer, os.environ))
    return written, file_sha256(out / SUMS)
