"""results.json: the complete, versioned record from which every other report can be re-rendered."""

from __future__ import annotations

import json
from pathlib import Path

from audit.report.atomic import write_atomic
from audit.results import RunRecord, to_document


class JsonReport:
    name = "json"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        text = json.dumps(to_document(run), ensure_ascii=False, indent=1)
        return [write_atomic(out / "results.json", text + "\n")]
