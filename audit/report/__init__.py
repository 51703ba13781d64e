"""Report formats: each a small plug-in behind one interface, fed by a RunRecord."""

from __future__ import annotations

import importlib
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from audit.common.atomic import write_atomic
from audit.common.errors import UserError
from audit.common.files import file_sha256
from audit.evidence.sshsig import SIGNATURE

if TYPE_CHECKING:  # the registry is read by the command line's help: it stays free of the run's modules
    from audit.results.record import RunRecord


class ReportFormat(Protocol):
    """Writes its files for a run into a folder, each atomically; returns their paths."""

    name: str

    def write(self, run: RunRecord, out: Path) -> list[Path]: ...


# Each format's plug-in and the files it writes, imported only when selected: pandas and jinja2
# stay unloaded otherwise. The one place a format is declared: names and files derive from it.
PLUGINS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "html": ("audit.report.html", "HtmlReport", ("report.html",)),
    "csv": ("audit.report.csv_files", "CsvReport", ("results.csv", "mismatches.csv", "durations.csv")),
    "json": ("audit.report.json_file", "JsonReport", ("results.json",)),
    "junit": ("audit.report.junit", "JunitReport", ("junit.xml",)),
    "md": ("audit.report.markdown", "MarkdownReport", ("summary.md",)),
    "sarif": ("audit.report.sarif", "SarifReport", ("results.sarif",)),
}
FORMAT_NAMES = tuple(PLUGINS)
EVIDENCE = "evidence.json"  # written into every set, whatever the formats (audit.report.evidence)
ATTESTATION = "attestation.intoto.json"  # and the set's in-toto statement (audit.report.attestation)
REPORT_FILES = (*(name for _, _, files in PLUGINS.values() for name in files), EVIDENCE, ATTESTATION)


def plugin(name: str) -> ReportFormat:
    module, cls, _ = PLUGINS[name]
    format_class: type[ReportFormat] = getattr(importlib.import_module(module), cls)
    return format_class()


SUMS = "SHA256SUMS"  # the manifest of the set: written last, so readers can tell a whole set
_STAGING = ".vod-audit-staging-"


class ReportsNotWritten(UserError):
    """The report set could not be written; the previous set in the folder is left as it was."""


def prepare_folder(out: Path) -> bool:
    """Creates the report folder, or says clearly why it cannot be used (before any API call);
    True when this call made it (a run that fails removes it again while it is empty)."""
    made = not out.exists()
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder")
    for name in (*REPORT_FILES, SUMS, SIGNATURE):
        target = out / name
        if target.is_symlink() or (target.exists() and not target.is_file()):
            raise UserError(f"--out {out}: {name} there is not a regular file; move it away")
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".vod-audit-write-test"
        probe.write_bytes(b"")
        probe.unlink()
        # What a killed run never renamed or swapped in: never a report, only litter.
        for stale in out.glob(".*.tmp"):
            if any(stale.name.startswith(f".{name}.") for name in (*REPORT_FILES, SUMS)):
                stale.unlink()
        for staging in [*out.glob(f"{_STAGING}*"), *out.glob(".vod-audit-sign-*")]:
            shutil.rmtree(staging, ignore_errors=True)
    except OSError as exc:
        raise UserError(f"--out {out}: cannot write there: {exc.strerror or exc}") from None
    return made


def write_reports(run: RunRecord, out: Path, formats: Iterable[str]) -> list[Path]:
    """Every selected format's files, in the order of FORMAT_NAMES, as one set.

    The set is written into a staging folder first: a failure there (a full disk, a file-size
    limit) leaves the previous set untouched. Then the old SHA256SUMS goes, the new files are
    renamed in one by one, the files of an earlier set that this one does not have (a run of fewer
    formats) are removed, and a new SHA256SUMS covering the new set is written last: a folder holds
    one run's set under a SHA256SUMS that matches it, or, only while a swap is cut short, no SHA256SUMS.
    """
    chosen = set(formats)
    staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=out))
    try:
        staged: list[Path] = []
        for name in FORMAT_NAMES:
            if name in chosen:
                staged.extend(plugin(name).write(run, staging))
        from audit.report.evidence import EvidenceReport

        staged.extend(EvidenceReport().write(run, staging))  # every set says how complete it is
        from audit.report import attestation

        # Each file hashed once: the in-toto statement and SHA256SUMS name the same digests.
        digests = {path.name: file_sha256(path) for path in staged}
        statement = attestation.write(run, staging, digests)  # and what the set is, for in-toto
        staged.append(statement)
        digests[statement.name] = file_sha256(statement)
        sums = "".join(f"{digests[path.name]}  {path.name}\n" for path in staged)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise ReportsNotWritten(
            f"--out {out}: the reports could not be written ({exc.strerror or exc}); "
            "the reports already there are unchanged"
        ) from None
    try:
        (out / SUMS).unlink(missing_ok=True)
        (out / SIGNATURE).unlink(missing_ok=True)  # an earlier set's: it signs sums no longer there
        written = []
        for path in staged:
            os.replace(path, out / path.name)
            written.append(out / path.name)
        for name in set(REPORT_FILES) - {path.name for path in staged}:
            (out / name).unlink(missing_ok=True)  # an earlier set's: never beside this one, unsealed
        written.append(write_atomic(out / SUMS, sums))
    except OSError as exc:
        raise ReportsNotWritten(
            f"--out {out}: the reports could not be put in place ({exc.strerror or exc}); "
            f"the folder has no {SUMS}, so its files are not one run's set"
        ) from None
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return written
