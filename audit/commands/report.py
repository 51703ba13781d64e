"""`vod-audit report` and `report merge`: every report again from saved results.json files, no API call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from audit.commands.sealing import Signing, signer_of, write_set
from audit.common.errors import ExitStatus
from audit.common.terminal import Echo
from audit.evidence.sshsig import Signer
from audit.report import prepare_folder
from audit.results.merge import merge
from audit.results.reader import read_results
from audit.results.record import RunRecord


def render(
    results: str, out: str, formats: Sequence[str], *, signing: Signing = (None, None), echo: Echo, err: Echo
) -> ExitStatus:
    """One run's reports, written again from its results.json."""
    signer = signer_of(signing)  # a key that cannot sign is said before anything is read
    _write(read_results(results), out, formats, signer, echo)
    return ExitStatus.OK


def merge_runs(
    results: Sequence[str],
    out: str,
    formats: Sequence[str],
    *,
    signing: Signing = (None, None),
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    """Several runs (one per region, say) as one report set, each result keeping its provider."""
    signer = signer_of(signing)
    run = merge([read_results(name) for name in results], list(results))
    _write(run, out, formats, signer, echo)
    echo(f"merged {len(results)} runs: {len(run.results)} jobs; {run.statement}")
    return ExitStatus.OK


def _write(run: RunRecord, out: str, formats: Sequence[str], signer: Signer | None, echo: Echo) -> None:
    folder = Path(out)
    prepare_folder(folder)
    written, _ = write_set(run, folder, formats, signer)
    for path in written:
        echo(f"wrote {path}")
