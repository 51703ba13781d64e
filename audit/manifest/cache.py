"""A loaded manifest kept as JSON beside it, reused while nothing it was built from has changed.

A nightly run of a 100,000-job manifest spent most of a third of its time reading the same YAML
again (bench/FINDINGS.md). The cache holds the built manifest (jobs, expectations as data, positions,
waivers, providers, channels) and what it was built from: every file read with its SHA-256, the
digest of the tool's own code and schemas, and a digest of each environment variable a `${env.X}`
reference read. It is used only when all of these are the same, and never for a manifest whose
meaning depends on the clock (a `since: 24h` window) or on a glob (event files), or that asks the
service (a media source). It is plain data, read with json: a cache file can hold no code. Whoever
can write it can also write the state beside it, which the audit trusts the same way.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import fields
from datetime import date
from pathlib import Path
from typing import Any

from audit.common.atomic import write_atomic
from audit.common.channels import ChannelSpec
from audit.common.files import file_sha256
from audit.common.jobtypes import JobRef
from audit.common.schemafiles import tool_digest
from audit.common.where import without_password
from audit.manifest import matchers
from audit.manifest.model import Expectation, JobSpec, Manifest, SourceFile, Waiver
from audit.manifest.outputs import OutputCheck
from audit.manifest.positions import Position

FORMAT = 3  # 2: mappings keep the type of every key; 3: output checks
Matcher = matchers.Matcher


def env_digest(names: Mapping[str, str | None]) -> dict[str, str]:
    """Each referenced variable's value as a digest (a cache never holds a value read from the
    environment); an unset variable as ''."""
    return {
        name: hashlib.sha256(value.encode()).hexdigest() if value is not None else ""
        for name, value in names.items()
    }


def location(roots: tuple[str, ...]) -> Path:
    """Where the cache of these top-level manifests lives: beside the first, in .vod-audit/."""
    key = hashlib.sha256("\0".join(str(Path(r).resolve()) for r in roots).encode()).hexdigest()[:24]
    return Path(roots[0]).parent / ".vod-audit" / "manifests" / f"{key}.json"


# JSON keys a mapping by text only: a mapping with a key of another type (YAML's {1: a}, {true: b})
# is kept as its pairs under this key, which no YAML text can hold.
_PAIRS = "\u0000pairs"


def _value(value: Any) -> Any:
    """A manifest value as JSON keeps it, every key's type included."""
    if isinstance(value, dict):
        if all(isinstance(key, str) for key in value) and _PAIRS not in value:
            return {key: _value(item) for key, item in value.items()}
        return {_PAIRS: [[_value(key), _value(item)] for key, item in value.items()]}
    if isinstance(value, list | tuple):
        return [_value(item) for item in value]
    return value


def _unvalue(data: Any) -> Any:
    """A value as `_value` kept it."""
    if isinstance(data, dict):
        if list(data) == [_PAIRS]:
            return {_unvalue(key): _unvalue(item) for key, item in data[_PAIRS]}
        return {key: _unvalue(item) for key, item in data.items()}
    if isinstance(data, list):
        return [_unvalue(item) for item in data]
    return data


def _matcher(m: Matcher) -> Any:
    if isinstance(m, matchers.Equals):
        return ["eq", _value(m.value)]
    if isinstance(m, matchers.OneOf):
        return ["one_of", _value(list(m.values))]
    if isinstance(m, matchers.Matches):
        return ["matches", m.pattern]
    if isinstance(m, matchers.Contains):
        return ["contains", _value(list(m.items))]
    if isinstance(m, matchers.Present):
        return ["present"]
    if isinstance(m, matchers.Absent):
        return ["absent"]
    if isinstance(m, matchers.Not):
        return ["not", _matcher(m.inner)]
    if isinstance(m, matchers.Subset):
        return ["subset", [[k, _matcher(v)] for k, v in m.fields]]
    raise TypeError(f"no data form for {type(m).__name__}")


def _unmatcher(data: Any) -> Matcher:
    kind, *rest = data
    if kind == "eq":
        return matchers.Equals(_unvalue(rest[0]))
    if kind == "one_of":
        return matchers.OneOf(tuple(_unvalue(rest[0])))
    if kind == "matches":
        return matchers.Matches(rest[0])
    if kind == "contains":
        return matchers.Contains(tuple(_unvalue(rest[0])))
    if kind == "present":
        return matchers.Present()
    if kind == "absent":
        return matchers.Absent()
    if kind == "not":
        return matchers.Not(_unmatcher(rest[0]))
    if kind == "subset":
        return matchers.Subset(tuple((k, _unmatcher(v)) for k, v in rest[0]))
    raise ValueError(f"unknown matcher {kind!r}")


class _Table:
    """Values written once and referred to by index: 100,000 jobs share a handful of files and expectations."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self._index: dict[str, int] = {}

    def ref(self, value: Any) -> int:
        key = json.dumps(value, sort_keys=True)
        if key not in self._index:
            self._index[key] = len(self.rows)
            self.rows.append(value)
        return self._index[key]


def document(manifest: Manifest, built_from: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest as cache data (TypeError for a value with no JSON form: then nothing is cached)."""
    files, expects, outputs = _Table(), _Table(), _Table()

    def where(position: Position) -> list[int]:
        return [files.ref(position.file), position.line, position.col]

    def expectation(expect: tuple[tuple[str, Matcher], ...]) -> int:
        return expects.ref([[name, _matcher(m)] for name, m in expect])

    def output(check: OutputCheck | None) -> int | None:
        if check is None:
            return None
        values = [[k, list(v)] for k, v in check.values]
        return outputs.ref(
            [values, [list(r) for r in check.ranges], check.within_seconds, check.within_share]
        )

    jobs = [
        [
            s.job_type,
            s.job_id,
            expectation(s.expect),
            *where(s.position),
            s.max_duration,
            s.min_duration,
            s.description,
            s.provider,
            s.origin,
            output(s.output),
        ]
        for s in manifest.jobs
    ]
    return {
        "format": FORMAT,
        "built_from": dict(built_from),
        "roots": list(manifest.roots),
        "sources": [[s.path, s.sha256] for s in manifest.sources],
        "provider": dict(manifest.provider),
        "providers": {k: dict(v) for k, v in manifest.providers.items()},
        "name": manifest.name,
        "allow_empty": manifest.allow_empty,
        "evented": sorted([ref.job_type, ref.job_id] for ref in manifest.evented),
        "events": list(manifest.events),
        "jobs": jobs,
        "waivers": [
            [w.job_id, w.job_type, w.field, w.reason, w.owner, w.expires.isoformat(), *where(w.position)]
            for w in manifest.waivers
        ],
        "notify": [
            {k: list(v) if isinstance(v, tuple) else v for k, v in _fields(c).items()}
            for c in manifest.notify
        ],
        "defaults": {
            t: [expectation(e.expect), e.max_duration, e.min_duration, e.provider, output(e.output)]
            for t, e in manifest.defaults.items()
        },
        "files": files.rows,
        "expects": expects.rows,
        "outputs": outputs.rows,
    }


def _fields(channel: ChannelSpec) -> dict[str, Any]:
    return {f.name: getattr(channel, f.name) for f in fields(channel)}


def manifest_of(data: Mapping[str, Any]) -> Manifest:
    """The manifest back from cache data (KeyError, TypeError or ValueError for a file not of this form)."""
    files = data["files"]
    expects = [tuple((name, _unmatcher(m)) for name, m in rows) for rows in data["expects"]]
    outputs = [
        OutputCheck(
            tuple((k, tuple(v)) for k, v in values), tuple((k, lo, hi) for k, lo, hi in ranges), sec, share
        )
        for values, ranges, sec, share in data["outputs"]
    ]
    jobs = tuple(
        JobSpec(
            t, i, expects[e], Position(files[f], line, col), upper, lower, text, provider, origin,
            output=None if out is None else outputs[out],
        )
        for t, i, e, f, line, col, upper, lower, text, provider, origin, out in data["jobs"]
    )  # fmt: skip
    waivers = tuple(
        Waiver(job, kind, field, reason, owner, date.fromisoformat(expires), Position(files[f], line, col))
        for job, kind, field, reason, owner, expires, f, line, col in data["waivers"]
    )
    notify = tuple(_channel(c) for c in data["notify"])
    defaults = {
        t: Expectation(expects[e], upper, lower, p, None if out is None else outputs[out])
        for t, (e, upper, lower, p, out) in data["defaults"].items()
    }
    return Manifest(
        tuple(data["roots"]),
        tuple(SourceFile(p, d) for p, d in data["sources"]),
        data["provider"],
        jobs,
        waivers,
        (int(data["events"][0]), int(data["events"][1])),
        data["providers"],
        data["name"],
        notify,
        (),
        defaults,
        bool(data["allow_empty"]),
        frozenset(JobRef(t, i) for t, i in data["evented"]),
    )


def _channel(data: Mapping[str, Any]) -> ChannelSpec:
    values: dict[str, Any] = {k: tuple(v) if k == "to" else v for k, v in data.items()}
    return ChannelSpec(**values)


def read(path: Path, roots: tuple[str, ...], env: Mapping[str, str]) -> Manifest | None:
    """The cached manifest of `roots`, when the cache was built from exactly what is there now."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        built = data["built_from"]
        if data["format"] != FORMAT or built["tool"] != tool_digest() or tuple(data["roots"]) != roots:
            return None
        if env_digest({n: env.get(n) for n in built["env"]}) != built["env"]:
            return None
        for name, digest in data["sources"]:
            if file_sha256(name) != digest:
                return None
        return manifest_of(data)
    except (OSError, ValueError, KeyError, TypeError, IndexError):
        return None  # no cache, or one of another form: the manifest is read afresh


def write(path: Path, manifest: Manifest, env_names: Mapping[str, str | None]) -> None:
    """Keeps the manifest for the next run, atomically; a cache that cannot be written is no error. A
    manifest whose state URL holds a password (from `${env.X}`, say) is never kept: the cache would
    write down a secret that only the environment held."""
    blocks = [manifest.provider, *manifest.providers.values()]
    if any(str(b.get("state", "")) != without_password(str(b.get("state", ""))) for b in blocks):
        return
    with contextlib.suppress(OSError, TypeError, ValueError):
        text = json.dumps(document(manifest, {"tool": tool_digest(), "env": env_digest(env_names)}))
        path.parent.mkdir(parents=True, exist_ok=True)
        write_atomic(path, text)
