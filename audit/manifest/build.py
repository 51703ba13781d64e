"""Phase two of loading: interpolates variables, merges defaults, checks expectations, builds JobSpecs."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date
from typing import Any

from audit.common.jobtypes import MEDIA_RESULT, NAMES, JobRef, catalogue
from audit.common.suggest import suggest
from audit.common.timeutil import parse_duration
from audit.manifest import matchers
from audit.manifest.model import Expectation, JobSpec, MediaQuery, Waiver
from audit.manifest.outputs import OutputCheck, parse_output
from audit.manifest.positions import Document, Path_, Position, Problem
from audit.manifest.reader import Reader, Setting
from audit.manifest.sources.base import RawJob
from audit.manifest.values import value_problems

DURATION_KEYS = ("max_duration", "min_duration")
_REFERENCE = re.compile(r"\$\{([^}]*)\}")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")


def _structured(spec: Mapping[str, Any]) -> bool:
    return "x-jsonString" in spec or spec.get("type") == "object"


class Builder:
    """Turns what the Reader collected into JobSpecs; problems are collected, never raised."""

    def __init__(self, reader: Reader, env: Mapping[str, str]) -> None:
        self.reader = reader
        self.env = env
        self.problems: list[Problem] = []
        self.env_used: dict[str, str | None] = {}  # each `${env.X}` read, and what it held
        self.vars = {
            name: self.interpolate(s.value, s.document, s.path, allow_vars=False)
            for name, s in reader.vars.items()
        }

    def interpolate(self, value: Any, document: Document, path: Path_, *, allow_vars: bool = True) -> Any:
        """The value with `${var.X}`/`${env.X}` resolved; a whole-value reference keeps its type.

        Containers are rebuilt with an explicit stack, so that a value nested a thousand levels deep
        is read like any other.
        """
        if not isinstance(value, list | dict):
            return self._text(value, document, path, allow_vars)
        root: Any = [] if isinstance(value, list) else {}
        pending = [(value, root, path)]
        while pending:
            source, target, where = pending.pop()
            items = enumerate(source) if isinstance(source, list) else source.items()
            for key, item in items:
                if isinstance(item, list | dict):
                    copy: Any = [] if isinstance(item, list) else {}
                    pending.append((item, copy, (*where, key)))
                else:
                    copy = self._text(item, document, (*where, key), allow_vars)
                if isinstance(target, list):
                    target.append(copy)
                else:
                    target[key] = copy
        return root

    def _text(self, value: Any, document: Document, path: Path_, allow_vars: bool) -> Any:
        if not isinstance(value, str) or "${" not in value:
            return value  # most values, and 100,000 job ids, hold no reference
        whole = _REFERENCE.fullmatch(value)
        if whole and not value.startswith("$${"):
            return self._resolve(whole.group(1), document, path, allow_vars, value)
        return _REFERENCE.sub(
            lambda m: str(self._resolve(m.group(1), document, path, allow_vars, value)),
            value.replace("$${", "\0"),
        ).replace("\0", "${")

    def _resolve(self, reference: str, document: Document, path: Path_, allow_vars: bool, text: str) -> Any:
        namespace, _, name = reference.partition(".")
        if namespace == "var" and allow_vars:
            if name in self.vars:
                return self.vars[name]
            defined = ", ".join(sorted(self.vars)) or "none"
            message = f"undefined variable ${{var.{name}}} (defined: {defined}){suggest(name, self.vars)}"
        elif namespace == "env" and name:
            self.env_used[name] = self.env.get(name)
            if name in self.env:
                return self.env[name]
            message = f"environment variable {name} is not set (referenced as ${{env.{name}}})"
        elif namespace == "var":
            message = f"variables cannot refer to other variables: {text!r}"
        else:
            message = f"unknown reference ${{{reference}}}; use ${{var.NAME}} or ${{env.NAME}}"
        self.problems.append(Problem(document.at(path), message))
        return text

    def provider(self) -> dict[str, Any]:
        """The provider block's settings, interpolated."""
        self._names_not_secrets(self.reader.provider.get("credentials_env"), ())
        return {
            name: self.interpolate(s.value, s.document, s.path) for name, s in self.reader.provider.items()
        }

    def providers(self) -> dict[str, dict[str, Any]]:
        """The provider aliases' settings, interpolated."""
        for setting in self.reader.providers.values():
            self._names_not_secrets(setting, ("credentials_env",))
        return {
            alias: self.interpolate(s.value, s.document, s.path)
            for alias, s in self.reader.providers.items()
            if isinstance(s.value, dict)
        }

    def _names_not_secrets(self, setting: Setting | None, inside: Path_) -> None:
        """credentials_env holds names of variables; a key pasted there is refused, never echoed."""
        names = setting.value if setting is not None else None
        for key in inside:
            names = names.get(key) if isinstance(names, dict) else None
        if setting is None or not isinstance(names, dict):
            return
        for role, name in names.items():
            if isinstance(name, str) and looks_like_secret(name):
                self.problems.append(
                    Problem(
                        setting.document.at((*setting.path, *inside, role)),
                        f"{role}: this looks like a key, not the name of an environment variable (the "
                        "value is not shown); put the key in a variable and name the variable here",
                    )
                )

    def _provider(self, raw_job: RawJob, job_type: str) -> str | None:
        """The job's provider alias: its own, its job list's, its type's default; an unknown one is a
        problem where it is written (once for a default or a list, however many jobs it reaches)."""
        raw, document, path = raw_job.raw, raw_job.document, raw_job.path
        default = self.reader.defaults[job_type].get("provider")
        own = raw.get("provider")
        alias: str
        if isinstance(own, str):
            alias, where = own, document.at((*path, "provider"))
        elif raw_job.provider is not None and raw_job.provider_at is not None:
            alias, where = raw_job.provider, raw_job.provider_at
        elif default is not None and isinstance(default.value, str):
            alias, where = default.value, default.document.at(default.path)
        else:
            return None
        if alias not in self.reader.providers and where not in self._reported:
            self._reported.add(where)
            known = ", ".join(sorted(self.reader.providers)) or "none; declare them under providers:"
            hint = suggest(alias, self.reader.providers)
            self.problems.append(Problem(where, f"unknown provider {alias!r} (providers: {known}){hint}"))
        return alias

    def build(self) -> list[JobSpec]:
        """Every job with its defaults merged; a job listed twice is a problem at its second place."""
        specs: list[JobSpec] = []
        seen: dict[JobRef, Position] = {}
        self.evented: set[JobRef] = set()
        self._reported: set[Position] = set()
        parsed_defaults = {
            t: self._expectations(t, {k: v for k, v in self.reader.defaults[t].items() if k != "provider"})
            for t in NAMES
        }
        self.defaults = {
            t: Expectation.of(parsed_defaults[t], self.reader.defaults[t].get("provider")) for t in NAMES
        }
        # Listed jobs first: an event naming one of them again adds nothing, and takes nothing away.
        listed = [j for j in self.reader.jobs if not j.from_events]
        named = [j for j in self.reader.jobs if j.from_events]
        for raw_job in listed + named:
            raw, document, path = raw_job.raw, raw_job.document, raw_job.path
            job_type = raw.get("type")
            job_id = self.interpolate(raw.get("id"), document, (*path, "id"))
            if job_type not in NAMES or not isinstance(job_id, str) or not job_id:
                continue  # the schema check has reported it
            position = document.at(path)
            key = JobRef(job_type, job_id)
            if raw_job.from_events:  # which events named a job, whichever list won it
                self.evented.add(key)
            if key in seen and raw_job.from_events:
                continue
            if key in seen:
                message = f"job {job_type} {job_id} is listed twice (first at {seen[key]})"
                self.problems.append(Problem(document.at((*path, "id")), message))
                continue
            seen[key] = position
            own = raw.get("expect")
            expect = dict(parsed_defaults[job_type])
            if isinstance(own, dict):
                entries = {
                    name: Setting(value, document, (*path, "expect", name)) for name, value in own.items()
                }
                expect.update(self._expectations(job_type, entries))
            spec = self._spec(job_type, job_id, expect, position, raw_job)
            specs.append(spec)
        return specs

    def queries(self) -> list[MediaQuery]:
        """The media sources; one naming an unknown provider is a problem where it is written."""
        for query in self.reader.queries:
            if query.provider is not None and query.provider not in self.reader.providers:
                known = ", ".join(sorted(self.reader.providers)) or "none; declare them under providers:"
                hint = suggest(query.provider, self.reader.providers)
                where = query.provider_at or query.position
                self.problems.append(
                    Problem(where, f"unknown provider {query.provider!r} (providers: {known}){hint}")
                )
        return list(self.reader.queries)

    def waivers(self, specs: list[JobSpec]) -> list[Waiver]:
        """Every waiver; one naming no job of the manifest, or with an impossible date, is a problem."""
        if not self.reader.waivers:
            return []  # nothing to index 100,000 jobs for
        listed = {spec.ref for spec in specs}
        types_of: dict[str, set[str]] = {}
        for ref in listed:
            types_of.setdefault(ref.job_id, set()).add(ref.job_type)
        built = []
        for entry in self.reader.waivers:
            raw, document, path = entry.raw, entry.document, entry.path
            job_id, job_type, expires = raw.get("job"), raw.get("type"), raw.get("expires")
            before = len(self.problems)  # each of its problems is said, not only the first
            last_day = None
            if isinstance(expires, str) and _DATE.fullmatch(expires):  # else the schema check said it
                try:
                    last_day = date.fromisoformat(expires)
                except ValueError:
                    self.problems.append(
                        Problem(document.at((*path, "expires")), f"{expires!r} is not a real date")
                    )
            types = types_of.get(job_id, set()) if isinstance(job_id, str) else set()
            if isinstance(job_type, str):
                # A media a source's require: judges is known only once discovery has run.
                types = {job_type} if job_type == MEDIA_RESULT and self.reader.queries else types & {job_type}
            if isinstance(job_id, str) and not types:
                what = f"{job_type} job {job_id}" if isinstance(job_type, str) else f"job {job_id}"
                self.problems.append(
                    Problem(
                        document.at((*path, "job")),
                        f"the waiver names {what}, which the manifest does not list",
                    )
                )
            field, owner = raw.get("field"), raw.get("owner")
            if isinstance(field, str) and types:
                self._waiver_field(field, sorted(types), document.at((*path, "field")))
            if (
                len(self.problems) > before
                or last_day is None
                or not isinstance(job_id, str)
                or not isinstance(raw.get("reason"), str)
            ):
                continue
            built.append(
                Waiver(
                    job_id,
                    job_type if isinstance(job_type, str) else None,
                    field if isinstance(field, str) else None,
                    raw["reason"],
                    owner if isinstance(owner, str) else None,
                    last_day,
                    document.at(path),
                )
            )
        return built

    def _waiver_field(self, field: str, types: list[str], where: Position) -> None:
        """A waiver's field must be one a finding of the job can have: a field of its type (or a path
        into one), a duration bound, a JSON Pointer (schema findings), `error` or `not_found`."""
        if field in (*DURATION_KEYS, "error", "not_found") or field.startswith("/"):
            return
        if "transcode" in types and (field == "output" or field.startswith("output.")):
            return  # an output check's finding (audit.expect.output)
        if MEDIA_RESULT in types and field.startswith("require."):
            return  # a media's missing job (audit.run.required)
        known = {name for job_type in types for name in catalogue()[job_type].fields}
        if field.split(".", 1)[0] in known:
            return
        what = " or ".join(types)
        hint = suggest(field, [*sorted(known), *DURATION_KEYS, "error", "not_found"])
        self.problems.append(
            Problem(
                where,
                f"the waiver's field {field!r} is no field of {what} jobs, so it would waive nothing{hint}",
            )
        )

    def _spec(
        self,
        job_type: str,
        job_id: str,
        expect: dict[str, Any],
        position: Position,
        raw_job: RawJob,
    ) -> JobSpec:
        raw, document, path = raw_job.raw, raw_job.document, raw_job.path
        output = expect.pop("output", None)
        bounds = {name: expect.pop(name) for name in DURATION_KEYS if name in expect}
        lower, upper = bounds.get("min_duration"), bounds.get("max_duration")
        if isinstance(lower, float) and isinstance(upper, float) and lower > upper:
            self.problems.append(
                Problem(document.at((*path, "expect")), "min_duration is longer than max_duration")
            )
        description = raw.get("description")
        return JobSpec(
            job_type,
            job_id,
            tuple(expect.items()),
            position,
            upper if isinstance(upper, float) else None,
            lower if isinstance(lower, float) else None,
            description if isinstance(description, str) else None,
            self._provider(raw_job, job_type),
            raw_job.origin,
            output=output if isinstance(output, OutputCheck) else None,
        )

    def _expectations(self, job_type: str, entries: Mapping[str, Setting]) -> dict[str, Any]:
        """Matchers (and duration bounds in seconds) by field; unknown fields and bad values reported."""
        specs = catalogue()[job_type].fields
        built: dict[str, Any] = {}
        for name, setting in entries.items():
            document, path = setting.document, setting.path
            value = self.interpolate(setting.value, document, path)
            if name == "output":  # what the job's stream must be tonight (audit.manifest.outputs)
                check, said = parse_output(value)
                if job_type != "transcode":
                    said = [f"output: checks a transcode job's stream; {job_type} jobs have none"]
                self.problems += [Problem(document.at(path), problem) for problem in said]
                built[name] = check if not said else None
                continue
            if name in DURATION_KEYS:
                seconds = parse_duration(value)
                if seconds is not None:
                    built[name] = seconds
                elif not isinstance(setting.value, str) or "${" in setting.value:
                    self.problems.append(
                        Problem(document.at(path), f"{value!r} is not a duration such as 90s, 10m, 2h or 1d")
                    )
                continue
            if name == "provider":
                self.problems.append(
                    Problem(
                        document.at(path, key=True),
                        "provider: goes on the job (or in defaults:), not in expect:",
                    )
                )
                continue
            if name not in specs:
                hint = suggest(str(name), [*specs, *DURATION_KEYS])
                self.problems.append(
                    Problem(document.at(path, key=True), f"unknown field {name!r} for {job_type} jobs{hint}")
                )
                continue
            try:
                matcher = matchers.parse(value, structured=_structured(specs[name]))
            except ValueError as exc:
                self.problems.append(Problem(document.at(path), f"{name}: {exc}"))
                continue
            for problem in value_problems(job_type, name, specs[name], matcher):
                self.problems.append(Problem(document.at(path), problem))
            built[name] = matcher
        return built


# Names of environment variables are words (VOD_EU_AK_ID); keys are not. AccessKey IDs of RAM users and
# STS begin "LTAI" and "STS."; other secrets are long runs of mixed-case letters and digits with no
# separator. Our inference, used only to refuse a manifest value before it is echoed anywhere.
_KEY_LIKE = re.compile(r"(LTAI|STS\.).*|(?=[^_]*[a-z])(?=[^_]*[A-Z])(?=[^_]*\d)[A-Za-z0-9+/=.-]{16,}")


def looks_like_secret(value: str) -> bool:
    return _KEY_LIKE.fullmatch(value) is not None
