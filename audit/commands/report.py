"""`vod-audit report` and `report merge`: every report again from saved results.json files, no API call."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from audit.errors import ExitStatus
from audit.jsonfile import read_json
from audit.merge import merge
from audit.report import FORMAT_NAMES, prepare_folder, write_reports
from audit.results import RunRecord, from_document
from audit.terminal import Echo


def render(results: str, out: str, formats: Sequence[str], *, echo: Echo, err: Echo) -> ExitStatus:
    """One run's reports, written again from its results.json."""
    _write(merge([from_document(read_json(results), results)], [results]), out, formats, echo)
    return ExitStatus.OK


def merge_runs(
    results: Sequence[str], out: str, formats: Sequence[str], *, echo: Echo, err: Echo
) -> ExitStatus:
    """Several runs (one per region, say) as one report set, each result keeping its provider."""
    run = merge([from_document(read_json(name), name) for name in results], list(results))
    _write(run, out, formats, echo)
    echo(f"merged {len(results)} runs: {len(run.results)} jobs, verdict {run.verdict}")
    return ExitStatus.OK


def _write(run: RunRecord, out: str, formats: Sequence[str], echo: Echo) -> None:
    folder = Path(out)
    prepare_folder(folder)
    for path in write_reports(run, folder, formats or FORMAT_NAMES):
        echo(f"wrote {path}")
