"""Loads manifests (includes, CSV job lists, variables, defaults) and reports every problem at once."""

from __future__ import annotations

import csv
import difflib
import hashlib
import io
import json
import os
import re
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from audit.manifest import matchers
from audit.manifest.model import JobSpec, Manifest, SourceFile
from audit.manifest.positions import Document, Path_, Position, Problem, pack
from audit.manifest.positions import load as load_yaml
from audit.schema.store import JOB_TYPES, detail_schema
from audit.schema.store import load as load_schema
from audit.timeutil import parse_duration

DURATION_KEYS = ("max_duration", "min_duration")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")


class ManifestInvalid(Exception):
    """The manifest has problems; `problems` lists each with its position."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def suggest(name: str, candidates: Iterable[str]) -> str:
    """`; did you mean 'X'?` for a near miss, else ''."""
    options = list(candidates)
    lowered = {c.lower(): c for c in options}
    if name.lower() in lowered:
        return f"; did you mean {lowered[name.lower()]!r}?"
    close = difflib.get_close_matches(name, options, n=1, cutoff=0.6)
    return f"; did you mean {close[0]!r}?" if close else ""


@cache
def field_specs(job_type: str) -> Mapping[str, Any]:
    return detail_schema(job_type)["properties"]


def _structured(spec: Mapping[str, Any]) -> bool:
    return "x-jsonString" in spec or spec.get("type") == "object"


@cache
def _manifest_validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(load_schema("manifest"))


@dataclass
class _RawJob:
    raw: Mapping[str, Any]
    document: Document
    path: Path_


class _Reader:
    """Phase one: reads every file, collecting vars, defaults, provider settings and raw jobs."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.sources: dict[str, SourceFile] = {}
        self.vars: dict[str, tuple[Any, Document, Path_]] = {}
        self.defaults: dict[str, dict[str, tuple[Any, Document, Path_]]] = {t: {} for t in JOB_TYPES}
        self.provider: dict[str, tuple[Any, Document, Path_]] = {}
        self.jobs: list[_RawJob] = []

    def read_bytes(self, path: Path, where: Position) -> str | None:
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            self.problems.append(Problem(where, f"{path}: is a directory, not a file"))
            return None
        except OSError as exc:
            self.problems.append(Problem(where, f"cannot read {path}: {exc.strerror or exc}"))
            return None
        self.sources.setdefault(str(path), SourceFile(str(path), hashlib.sha256(data).hexdigest()))
        try:
            return data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            self.problems.append(Problem(where, f"{path} is not UTF-8 text (byte {exc.start})"))
            return None

    def manifest(self, path: Path, stack: tuple[Path, ...], where: Position | None) -> None:
        resolved = path.resolve()
        if resolved in stack:
            chain = " -> ".join(p.name for p in (*stack[stack.index(resolved) :], resolved))
            self.problems.append(Problem(where or Position(str(path), 1, 1), f"include cycle: {chain}"))
            return
        if str(path) in self.sources or any(Path(s).resolve() == resolved for s in self.sources):
            return  # included twice without a cycle: read once
        text = self.read_bytes(path, where or Position(str(path), 1, 1))
        if text is None:
            return
        document = load_yaml(text, str(path))
        self.problems.extend(document.problems)
        value = document.value
        if value is None and not document.problems:
            self.problems.append(Problem(Position(str(path), 1, 1), "empty manifest"))
            return
        if not isinstance(value, dict):
            if value is not None:
                self.problems.append(Problem(document.at(()), "a manifest is a mapping (version, jobs, ...)"))
            return
        self.problems.extend(_schema_problems(document))
        if not stack and "version" not in value:
            self.problems.append(
                Problem(document.at(()), "missing required key 'version' (write version: 1)")
            )
        self._collect(document, value, is_root=not stack)
        base = path.parent
        for index, name in enumerate(_list(value.get("include"))):
            if isinstance(name, str) and name:
                self.manifest(base / name, (*stack, resolved), document.at(("include", index)))
        for index, entry in enumerate(_list(value.get("jobs_from"))):
            if isinstance(entry, dict) and isinstance(entry.get("csv"), str) and entry["csv"]:
                self.csv(base / entry["csv"], document.at(("jobs_from", index, "csv")))

    def _collect(self, document: Document, value: Mapping[str, Any], *, is_root: bool) -> None:
        provider = value.get("provider")
        if isinstance(provider, dict):
            if not is_root:
                self.problems.append(
                    Problem(
                        document.at(("provider",), key=True),
                        "provider: is only allowed in a top-level manifest, not in an included one",
                    )
                )
            for name, setting in provider.items():
                self._merge(self.provider, name, setting, document, ("provider", name), "provider setting")
        variables = value.get("vars")
        if isinstance(variables, dict):
            for name, setting in variables.items():
                self._merge(self.vars, str(name), setting, document, ("vars", name), "variable")
        defaults = value.get("defaults")
        if isinstance(defaults, dict):
            for job_type, expect in defaults.items():
                if job_type in self.defaults and isinstance(expect, dict):
                    for name, setting in expect.items():
                        self._merge(
                            self.defaults[job_type],
                            name,
                            setting,
                            document,
                            ("defaults", job_type, name),
                            f"default for {job_type}",
                        )
        for index, job in enumerate(_list(value.get("jobs"))):
            if isinstance(job, dict):
                self.jobs.append(_RawJob(job, document, ("jobs", index)))

    def _merge(
        self, table: dict[str, Any], name: str, value: Any, document: Document, path: Path_, what: str
    ) -> None:
        if name in table and table[name][0] != value:
            first = table[name][1].at(table[name][2])
            self.problems.append(
                Problem(document.at(path, key=True), f"{what} {name!r} is already set differently at {first}")
            )
            return
        table.setdefault(name, (value, document, path))

    def csv(self, path: Path, where: Position) -> None:
        text = self.read_bytes(path, where)
        if text is None:
            return
        name = str(path)
        document = Document(name)
        lines = text.splitlines()
        reader = csv.reader(io.StringIO(text, newline=""))
        header = [cell.strip() for cell in next(reader, [])]
        if header[:2] != ["id", "type"]:
            message = "the header row must start with id,type (then optional expectation columns)"
            self.problems.append(Problem(Position(name, 1, 1), message))
            return
        jobs: list[dict[str, Any]] = []
        for row in reader:
            line_number = reader.line_num
            if not any(cell.strip() for cell in row):
                continue
            if len(row) > len(header):
                message = f"{len(row)} cells but the header has {len(header)} columns"
                self.problems.append(Problem(Position(name, line_number, 1), message))
                continue
            index = len(jobs)
            offsets = _cell_offsets(lines[line_number - 1] if line_number <= len(lines) else "", len(row))
            job: dict[str, Any] = {"id": row[0].strip(), "type": row[1].strip() if len(row) > 1 else ""}
            expect: dict[str, Any] = {}
            document.values[("jobs", index)] = pack(line_number, 1)
            for column, cell in enumerate(row):
                position = pack(line_number, offsets[column])
                key = ("id", "type")[column] if column < 2 else header[column]
                path: Path_ = ("jobs", index, key) if column < 2 else ("jobs", index, "expect", key)
                document.values[path] = position
                document.keys[path] = position
                if column >= 2 and cell.strip():
                    expect[key] = _csv_value(cell.strip(), job["type"], key)
            if expect:
                job["expect"] = expect
            jobs.append(job)
        for problem in _schema_problems(Document(name, {"jobs": jobs}, document.values, document.keys)):
            self.problems.append(problem)
        for index, job in enumerate(jobs):
            self.jobs.append(_RawJob(job, document, ("jobs", index)))


def _list(value: Any) -> list[Any]:
    """A list the schema expects; anything else (already reported by the schema check) reads as empty."""
    return value if isinstance(value, list) else []


def _cell_offsets(line: str, count: int) -> list[int]:
    """1-based column where each cell starts (exact for unquoted cells, which is the common case)."""
    offsets, column = [], 1
    for cell in line.split(",")[:count] if '"' not in line else []:
        offsets.append(column)
        column += len(cell) + 1
    return offsets + [1] * (count - len(offsets))


def _csv_value(cell: str, job_type: str, key: str) -> Any:
    import yaml

    if cell[0] in "{[":
        from audit.manifest.positions import ManifestLoader

        try:
            return yaml.load(cell, Loader=ManifestLoader)  # ManifestLoader is a SafeLoader
        except yaml.YAMLError:
            return cell
    spec = field_specs(job_type).get(key, {}) if job_type in JOB_TYPES else {}
    if spec.get("type") == "integer" and re.fullmatch(r"-?\d+", cell):
        return int(cell)
    return cell


def _shape(job: Any) -> Hashable:
    """A job with its id blanked: jobs of one shape pass or fail the schema alike."""
    if isinstance(job, dict) and isinstance(job.get("id"), str):
        job = {**job, "id": "x" if job["id"] else ""}
    if isinstance(job, dict) and all(isinstance(v, str | int | float | bool | None) for v in job.values()):
        # Flat jobs, the common case, without serialising them; types kept apart (1 == True).
        return frozenset((type(k), k, type(v), v) for k, v in job.items())
    return json.dumps(job, sort_keys=True, default=str)


def _schema_errors(value: Any) -> Iterable[tuple[Path_, Any]]:
    """(path, error) of every schema error; each distinct job shape is validated once."""
    validator = _manifest_validator()
    jobs = value.get("jobs") if isinstance(value, dict) else None
    if not isinstance(jobs, list):
        for error in validator.iter_errors(value):
            yield tuple(error.absolute_path), error
        return
    for error in validator.iter_errors({**value, "jobs": []}):
        yield tuple(error.absolute_path), error
    by_shape: dict[Hashable, list[Any]] = {}
    for index, job in enumerate(jobs):
        shape = _shape(job)
        if shape not in by_shape:
            by_shape[shape] = list(validator.iter_errors({"version": 1, "jobs": [job]}))
        for error in by_shape[shape]:
            yield ("jobs", index, *tuple(error.absolute_path)[2:]), error


def _schema_problems(document: Document) -> list[Problem]:
    problems = []
    for path, error in _schema_errors(document.value):
        if error.validator == "additionalProperties" and isinstance(error.instance, dict):
            known = error.schema.get("properties", {})
            for name in sorted(set(error.instance) - set(known), key=str):
                problems.append(
                    Problem(
                        document.at((*path, name), key=True),
                        f"unknown key {name!r}{suggest(str(name), known)}",
                    )
                )
        elif error.validator == "required":
            missing = error.message.split("'")[1] if "'" in error.message else error.message
            problems.append(Problem(document.at(path), f"missing required key {missing!r}"))
        elif error.validator == "enum" and path and path[-1] == "type":
            problems.append(
                Problem(
                    document.at(path),
                    f"{error.instance!r} is not a job type ({', '.join(JOB_TYPES)}){suggest(str(error.instance), JOB_TYPES)}",
                )
            )
        elif error.validator == "const":
            problems.append(
                Problem(document.at(path), f"{'/'.join(map(str, path))} must be {error.validator_value!r}")
            )
        elif error.validator == "pattern" and isinstance(error.schema, dict) and "x-message" in error.schema:
            key = path == ("vars",)  # a property name: point at the key itself
            where = document.at((*path, error.instance), key=True) if key else document.at(path)
            problems.append(Problem(where, f"{error.instance!r} {error.schema['x-message']}"))
        elif error.validator in ("minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"):
            bound = {
                "minimum": "at least",
                "exclusiveMinimum": "more than",
                "maximum": "at most",
                "exclusiveMaximum": "less than",
            }[error.validator]
            problems.append(
                Problem(
                    document.at(path),
                    f"{'/'.join(map(str, path))} must be {bound} {error.validator_value}, got {error.instance}",
                )
            )
        elif (
            error.validator == "type"
            and path
            and path[-1] == "id"
            and isinstance(error.instance, int | float)
        ):
            problems.append(
                Problem(
                    document.at(path),
                    "id: expected a string, got a number; quote a JobId made only of digits, e.g. id: '0123'",
                )
            )
        elif error.validator == "type":
            problems.append(
                Problem(
                    document.at(path),
                    f"{path[-1] if path else 'manifest'}: expected {_a(error.validator_value)}, got {_a(_json_type(error.instance))}",
                )
            )
        else:
            problems.append(
                Problem(document.at(path), f"{'/'.join(map(str, path)) or 'manifest'}: {error.message}")
            )
    return problems


def _json_type(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )


def _a(kind: Any) -> str:
    names = {
        "object": "a mapping",
        "array": "a list",
        "string": "a string",
        "number": "a number",
        "integer": "an integer",
        "boolean": "true or false",
        "null": "nothing",
    }
    if isinstance(kind, list):
        return " or ".join(names.get(k, k) for k in kind)
    return names.get(kind, str(kind))


class _Builder:
    """Phase two: interpolates, merges defaults, checks expectations and builds JobSpecs."""

    def __init__(self, reader: _Reader, env: Mapping[str, str]) -> None:
        self.reader = reader
        self.env = env
        self.problems: list[Problem] = []
        self.vars = {
            name: self.interpolate(value, doc, path, allow_vars=False)
            for name, (value, doc, path) in reader.vars.items()
        }
        self._defaults_cache: dict[str, dict[str, tuple[Any, Document, Path_]]] = {}

    def interpolate(self, value: Any, document: Document, path: Path_, *, allow_vars: bool = True) -> Any:
        if isinstance(value, str):
            if "${" not in value:
                return value  # most values, and 100,000 job ids, hold no reference
            whole = _REFERENCE.fullmatch(value)
            if whole and not value.startswith("$${"):
                return self._resolve(whole.group(1), document, path, allow_vars, value)
            return _REFERENCE.sub(
                lambda m: str(self._resolve(m.group(1), document, path, allow_vars, value)),
                value.replace("$${", "\0"),
            ).replace("\0", "${")
        if isinstance(value, list):
            return [
                self.interpolate(item, document, (*path, i), allow_vars=allow_vars)
                for i, item in enumerate(value)
            ]
        if isinstance(value, dict):
            return {
                k: self.interpolate(v, document, (*path, k), allow_vars=allow_vars) for k, v in value.items()
            }
        return value

    def _resolve(self, reference: str, document: Document, path: Path_, allow_vars: bool, text: str) -> Any:
        namespace, _, name = reference.partition(".")
        if namespace == "var" and allow_vars:
            if name in self.vars:
                return self.vars[name]
            defined = ", ".join(sorted(self.vars)) or "none"
            self.problems.append(
                Problem(
                    document.at(path),
                    f"undefined variable ${{var.{name}}} (defined: {defined}){suggest(name, self.vars)}",
                )
            )
        elif namespace == "env" and name:
            if name in self.env:
                return self.env[name]
            self.problems.append(
                Problem(
                    document.at(path),
                    f"environment variable {name} is not set (referenced as ${{env.{name}}})",
                )
            )
        elif namespace == "var":
            self.problems.append(
                Problem(document.at(path), f"variables cannot refer to other variables: {text!r}")
            )
        else:
            self.problems.append(
                Problem(
                    document.at(path),
                    f"unknown reference ${{{reference}}}; use ${{var.NAME}} or ${{env.NAME}}",
                )
            )
        return text

    def build(self) -> list[JobSpec]:
        specs: list[JobSpec] = []
        seen: dict[tuple[str, str], Position] = {}
        parsed_defaults = {t: self._expectations(t, self.reader.defaults[t]) for t in JOB_TYPES}
        for raw_job in self.reader.jobs:
            raw, document, path = raw_job.raw, raw_job.document, raw_job.path
            job_type = raw.get("type")
            job_id = self.interpolate(raw.get("id"), document, (*path, "id"))
            if job_type not in JOB_TYPES or not isinstance(job_id, str) or not job_id:
                continue  # the schema check has reported it
            position = document.at(path)
            key = (job_type, job_id)
            if key in seen:
                self.problems.append(
                    Problem(
                        document.at((*path, "id")),
                        f"job {job_type} {job_id} is listed twice (first at {seen[key]})",
                    )
                )
                continue
            seen[key] = position
            own = raw.get("expect") if isinstance(raw.get("expect"), dict) else {}
            expect = dict(parsed_defaults[job_type])
            expect.update(
                self._expectations(
                    job_type,
                    {name: (value, document, (*path, "expect", name)) for name, value in own.items()},
                )
            )
            bounds = {name: expect.pop(name) for name in DURATION_KEYS if name in expect}
            lower, upper = bounds.get("min_duration"), bounds.get("max_duration")
            if isinstance(lower, float) and isinstance(upper, float) and lower > upper:
                self.problems.append(
                    Problem(document.at((*path, "expect")), "min_duration is longer than max_duration")
                )
            description = raw.get("description")
            specs.append(
                JobSpec(
                    job_type,
                    job_id,
                    tuple(expect.items()),
                    position,  # type: ignore[arg-type]
                    upper if isinstance(upper, float) else None,
                    lower if isinstance(lower, float) else None,
                    description if isinstance(description, str) else None,
                )
            )
        return specs

    def _expectations(
        self, job_type: str, entries: Mapping[str, tuple[Any, Document, Path_]]
    ) -> dict[str, Any]:
        specs = field_specs(job_type)
        built: dict[str, Any] = {}
        for name, (raw_value, document, path) in entries.items():
            value = self.interpolate(raw_value, document, path)
            if name in DURATION_KEYS:
                seconds = parse_duration(value)
                if seconds is not None:
                    built[name] = seconds
                elif not isinstance(raw_value, str) or "${" in raw_value:
                    self.problems.append(
                        Problem(document.at(path), f"{value!r} is not a duration such as 90s, 10m, 2h or 1d")
                    )
                continue
            if name not in specs:
                self.problems.append(
                    Problem(
                        document.at(path, key=True),
                        f"unknown field {name!r} for {job_type} jobs{suggest(str(name), [*specs, *DURATION_KEYS])}",
                    )
                )
                continue
            try:
                matcher = matchers.parse(value, structured=_structured(specs[name]))
            except ValueError as exc:
                self.problems.append(Problem(document.at(path), f"{name}: {exc}"))
                continue
            for problem in _value_problems(job_type, name, specs[name], matcher):
                self.problems.append(Problem(document.at(path), problem))
            built[name] = matcher
        return built


def _literals(matcher: matchers.Matcher) -> list[Any]:
    if isinstance(matcher, matchers.Equals):
        return [matcher.value]
    if isinstance(matcher, matchers.OneOf):
        return list(matcher.values)
    if isinstance(matcher, matchers.Not):
        return _literals(matcher.inner)
    return []


def _value_problems(
    job_type: str, name: str, spec: Mapping[str, Any], matcher: matchers.Matcher
) -> list[str]:
    if isinstance(matcher, matchers.Subset) and "properties" in spec:
        # A nested object (Workflow): check each named key against its own schema.
        return [
            problem
            for key, inner in matcher.fields
            if key in spec["properties"]
            for problem in _value_problems(job_type, f"{name}.{key}", spec["properties"][key], inner)
        ]
    problems = []
    for value in _literals(matcher):
        allowed = spec.get("enum")
        if allowed and value not in allowed:
            problems.append(
                f"{value!r} is not a {name} of {job_type} jobs (one of {', '.join(allowed)}){suggest(str(value), allowed)}"
            )
        elif spec.get("type") == "integer" and (not isinstance(value, int) or isinstance(value, bool)):
            problems.append(f"{name} is an integer in the API, got {value!r}")
        elif (spec.get("type") == "string" or "$ref" in spec) and not isinstance(value, str) and not allowed:
            problems.append(f"{name} is a string in the API, got {value!r} (quote it)")
    return problems


def load(paths: Iterable[str | os.PathLike[str]], env: Mapping[str, str] | None = None) -> Manifest:
    """The merged manifest of `paths`; ManifestInvalid listing every problem when any is found."""
    reader = _Reader()
    roots = [str(p) for p in paths]
    for root in roots:
        reader.manifest(Path(root), (), None)
    builder = _Builder(reader, os.environ if env is None else env)
    jobs = builder.build()
    provider = {
        name: builder.interpolate(value, doc, path) for name, (value, doc, path) in reader.provider.items()
    }
    problems = reader.problems + builder.problems
    if problems:
        raise ManifestInvalid(problems)
    return Manifest(tuple(roots), tuple(reader.sources.values()), provider, tuple(jobs))
