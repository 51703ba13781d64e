"""CSV job lists (`jobs_from: - csv:`): a row per job, with the position of every cell."""

from __future__ import annotations

import csv
import io
import re
from typing import Any

from audit.common.jobtypes import catalogue
from audit.manifest.positions import Document, Path_, Position, Problem, pack
from audit.manifest.schema_check import schema_problems
from audit.manifest.sources.base import Entry, Found, RawJob, Reading


class CsvSource:
    """`jobs_from: - csv: FILE`: a row per job, each cell at its own line and column."""

    key = "csv"
    options: frozenset[str] = frozenset()
    takes: type = str

    def read(self, entry: Entry, reader: Reading) -> Found:
        out = Found()
        path = entry.base / entry.settings["csv"]
        text = reader.read_text(path, entry.at("csv"))
        if text is None:
            return out
        document, problems = read_csv(text, str(path))
        out.problems.extend(problems)
        out.problems.extend(schema_problems(document))
        for index, job in enumerate(document.value["jobs"]):
            out.jobs.append(
                RawJob(job, document, ("jobs", index), self.key, entry.provider, entry.provider_at)
            )
        return out


def read_csv(text: str, name: str) -> tuple[Document, list[Problem]]:
    """The list as a Document whose value is `{"jobs": [...]}` in manifest form, and its row problems."""
    document = Document(name, {"jobs": []})
    lines = text.splitlines()
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header = [cell.strip() for cell in next(reader, [])]
    except csv.Error as exc:
        return document, [Problem(Position(name, reader.line_num or 1, 1), f"not a CSV job list: {exc}")]
    if header[:2] != ["id", "type"]:
        message = "the header row must start with id,type (then optional expectation columns)"
        return document, [Problem(Position(name, 1, 1), message)]
    problems: list[Problem] = []
    jobs: list[dict[str, Any]] = document.value["jobs"]
    try:
        _read_rows(reader, lines, header, document, jobs, problems, name)
    except csv.Error as exc:  # a cell over the csv module's 128 KiB, a stray NUL
        problems.append(Problem(Position(name, reader.line_num, 1), f"not a CSV job list: {exc}"))
    return document, problems


def _read_rows(
    reader: Any,
    lines: list[str],
    header: list[str],
    document: Document,
    jobs: list[dict[str, Any]],
    problems: list[Problem],
    name: str,
) -> None:
    for row in reader:
        line_number = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            message = f"{len(row)} cells but the header has {len(header)} columns"
            problems.append(Problem(Position(name, line_number, 1), message))
            continue
        index = len(jobs)
        offsets = _cell_offsets(lines[line_number - 1] if line_number <= len(lines) else "", len(row))
        job: dict[str, Any] = {"id": row[0].strip(), "type": row[1].strip() if len(row) > 1 else ""}
        expect: dict[str, Any] = {}
        document.values[("jobs", index)] = pack(line_number, 1)
        for column, cell in enumerate(row):
            position = pack(line_number, offsets[column])
            key = ("id", "type")[column] if column < 2 else header[column]
            # id, type and provider are the job's own; every other column is an expectation.
            own = column < 2 or key == "provider"
            path: Path_ = ("jobs", index, key) if own else ("jobs", index, "expect", key)
            document.values[path] = position
            document.keys[path] = position
            if key == "provider" and cell.strip():
                job["provider"] = cell.strip()
            elif not own and cell.strip():
                expect[key] = _cell_value(cell.strip(), job["type"], key)
        if expect:
            job["expect"] = expect
        jobs.append(job)


def _cell_offsets(line: str, count: int) -> list[int]:
    """1-based column where each cell starts (exact for unquoted cells, which is the common case)."""
    offsets, column = [], 1
    for cell in line.split(",")[:count] if '"' not in line else []:
        offsets.append(column)
        column += len(cell) + 1
    return offsets + [1] * (count - len(offsets))


def _cell_value(cell: str, job_type: str, key: str) -> Any:
    """A cell as the value YAML would give: `{...}`/`[...]` parsed, integers for integer fields."""
    import yaml

    if cell[0] in "{[":
        from audit.manifest.positions import ManifestLoader

        try:
            return yaml.load(cell, Loader=ManifestLoader)  # ManifestLoader is a SafeLoader
        except yaml.YAMLError:
            return cell
    kind = catalogue().get(job_type)
    spec = kind.fields.get(key, {}) if kind else {}
    if spec.get("type") == "integer" and re.fullmatch(r"-?\d+", cell):
        return int(cell)
    return cell
