"""`vod-audit report`: re-render every report from saved results.json files (several: merged into
one set, `report merge`), with no API call."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

from audit.errors import UserError
from audit.jsonfile import read_json
from audit.merge import merge
from audit.report import FORMAT_NAMES, prepare_folder, write_reports
from audit.results import from_document


def execute(
    arguments: Sequence[str],
    out: str,
    formats: Sequence[str],
    *,
    echo: Callable[[str], None],
    err: Callable[[str], None],
) -> int:
    merging = len(arguments) > 1 and arguments[0] == "merge"
    files = list(arguments[1:] if merging else arguments)
    if not merging and len(files) != 1:
        raise UserError("give one results.json, or `report merge RESULTS.json... --out DIR` for several")
    run = merge([from_document(read_json(name), name) for name in files], files)
    folder = Path(out)
    prepare_folder(folder)
    for path in write_reports(run, folder, formats or FORMAT_NAMES):
        echo(f"wrote {path}")
    if merging:
        echo(f"merged {len(files)} runs: {len(run.results)} jobs, verdict {run.verdict}")
    return 0
