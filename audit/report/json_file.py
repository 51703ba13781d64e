"""results.json: the complete, versioned record from which every other report can be re-rendered."""

from __future__ import annotations

from pathlib import Path

from audit.common.atomic import write_atomic
from audit.results.jsonform import parts
from audit.results.record import RunRecord


class JsonReport:
    name = "json"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        return [write_atomic(out / "results.json", parts(run))]
