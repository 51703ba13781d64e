"""`vod-audit report`: re-render every report from a saved results.json, with no API call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from audit.jsonfile import read_json
from audit.report import FORMAT_NAMES, prepare_folder, write_reports
from audit.results import from_document


def execute(
    results: str, out: str, formats: Sequence[str], *, echo: Callable[[str], None], err: Callable[[str], None]
) -> int:
    run = from_document(read_json(results), results)
    folder = Path(out)
    prepare_folder(folder)
    for path in write_reports(run, folder, formats or FORMAT_NAMES):
        echo(f"wrote {path}")
    return 0
