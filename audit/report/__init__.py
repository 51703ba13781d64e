"""Report formats: each a small plug-in behind one interface, fed by a RunRecord."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from audit.errors import UserError

if TYPE_CHECKING:  # the registry is read by the command line's help: it stays free of the run's modules
    from audit.results import RunRecord


class ReportFormat(Protocol):
    """Writes its files for a run into a folder, each atomically; returns their paths."""

    name: str

    def write(self, run: RunRecord, out: Path) -> list[Path]: ...


# Each format's plug-in, imported only when selected: pandas and jinja2 stay unloaded otherwise.
PLUGINS = {
    "html": ("audit.report.html", "HtmlReport"),
    "csv": ("audit.report.csv_files", "CsvReport"),
    "json": ("audit.report.json_file", "JsonReport"),
    "junit": ("audit.report.junit", "JunitReport"),
    "md": ("audit.report.markdown", "MarkdownReport"),
}
FORMAT_NAMES = tuple(PLUGINS)
REPORT_FILES = (
    "report.html",
    "results.csv",
    "mismatches.csv",
    "durations.csv",
    "results.json",
    "junit.xml",
    "summary.md",
)


def plugin(name: str) -> ReportFormat:
    module, cls = PLUGINS[name]
    format_class: type[ReportFormat] = getattr(importlib.import_module(module), cls)
    return format_class()


def prepare_folder(out: Path) -> None:
    """Creates the report folder, or says clearly why it cannot be used (before any API call)."""
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".vod-audit-write-test"
        probe.write_bytes(b"")
        probe.unlink()
        # Temporary files of a write that a killed run never renamed: never a report, only litter.
        for stale in out.glob(".*.tmp"):
            if any(stale.name.startswith(f".{name}.") for name in REPORT_FILES):
                stale.unlink()
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write there: {exc.strerror or exc}") from None


def write_reports(run: RunRecord, out: Path, formats: Iterable[str]) -> list[Path]:
    """Every selected format's files, in the order of FORMAT_NAMES."""
    chosen = set(formats)
    written: list[Path] = []
    for name in FORMAT_NAMES:
        if name in chosen:
            written.extend(plugin(name).write(run, out))
    return written
