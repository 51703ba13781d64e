"""results.csv, mismatches.csv and durations.csv: UTF-8, header row, formula cells neutralised."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from audit.common.atomic import write_atomic
from audit.report.tables import durations_frame, findings_frame, results_frame
from audit.results.record import RunRecord

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """A text cell a spreadsheet would execute as a formula gets a leading apostrophe (OWASP)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def to_csv(frame: Any) -> str:
    from pandas.api.types import is_bool_dtype, is_numeric_dtype

    # Text columns are `object` or, since pandas 3, `str`: anything not numeric gets neutralised.
    safe = frame.apply(
        lambda column: column if is_numeric_dtype(column) or is_bool_dtype(column) else column.map(neutralise)
    )
    text: str = safe.to_csv(index=False, lineterminator="\n", float_format="%.3f")
    return text


class CsvReport:
    name = "csv"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        return [
            write_atomic(out / "results.csv", to_csv(results_frame(run))),
            write_atomic(out / "mismatches.csv", to_csv(findings_frame(run))),
            write_atomic(out / "durations.csv", to_csv(durations_frame(run))),
        ]
