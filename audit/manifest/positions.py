"""Safe YAML loading that remembers the file, line and column of every key and value."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import yaml

Path_ = tuple[str | int, ...]

# Nodes that aliases may copy in, per node written: anchors may repeat a block, not explode it
# (billion laughs). Only copies count, so a long one-line JSON manifest or deep nesting is no bomb.
EXPANSION_FACTOR = 50
EXPANSION_FLOOR = 100_000
# Far deeper than any manifest needs, and shallow enough for every later step that walks a value.
MAX_DEPTH = 1000


@dataclass(frozen=True, order=True)
class Position:
    """1-based line and column in a file."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


@dataclass(frozen=True, order=True)
class Problem:
    """One error in a manifest, printed as `file:line:col: message`."""

    position: Position
    message: str

    def __str__(self) -> str:
        return f"{self.position}: {self.message}"


# The base is chosen at run time (libyaml's when installed), which a type checker cannot follow.
class ManifestLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]  # dynamic base
    """Safe loading (libyaml when present) with YAML 1.2 booleans (no yes/no/on/off), timestamps as strings."""


ManifestLoader.yaml_implicit_resolvers = {
    first: [
        (tag, rx)
        for tag, rx in resolvers
        if tag not in ("tag:yaml.org,2002:bool", "tag:yaml.org,2002:timestamp")
    ]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
ManifestLoader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_STR = "tag:yaml.org,2002:str"
_resolved: dict[tuple[str, bool], str] = {}


def _resolve(self: ManifestLoader, kind: Any, value: Any, implicit: Any) -> str:
    # The implicit tag of a plain scalar depends on its text alone, and manifests repeat their
    # keys and values thousands of times: memoised, it stops dominating large loads.
    if kind is yaml.ScalarNode and implicit[0]:
        key = (value, implicit[1])
        tag = _resolved.get(key)
        if tag is None:
            tag = str(yaml.resolver.Resolver.resolve(self, kind, value, implicit))  # type: ignore[no-untyped-call]  # untyped in PyYAML's stubs
            if len(_resolved) < 50_000:
                _resolved[key] = tag
        return tag
    return str(yaml.resolver.Resolver.resolve(self, kind, value, implicit))  # type: ignore[no-untyped-call]  # as above


ManifestLoader.resolve = _resolve


def pack(line: int, col: int) -> int:
    """A position as one int (a 100,000-job manifest holds most of a million of them)."""
    return line << 24 | col


@dataclass
class Document:
    """A parsed YAML file: plain values, with the packed position of each path's value and key."""

    file: str
    value: Any = None
    values: dict[Path_, int] = field(default_factory=dict)
    keys: dict[Path_, int] = field(default_factory=dict)
    problems: list[Problem] = field(default_factory=list)

    def at(self, path: Path_, *, key: bool = False) -> Position:
        """The position of a path's key (or value), or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        probe = tuple(path)
        found = None
        while probe:
            found = table.get(probe, self.values.get(probe))
            if found is not None:
                break
            probe = probe[:-1]
        if found is None:
            found = self.values.get((), pack(1, 1))
        return Position(self.file, found >> 24, found & 0xFFFFFF)


class _TooLarge(Exception):
    pass


class _TooDeep(Exception):
    pass


def _position(file: str, mark: Any) -> Position:
    return Position(file, mark.line + 1, mark.column + 1)


def _packed(mark: Any) -> int:
    return pack(mark.line + 1, mark.column + 1)


_NO_KEY: Any = object()


@dataclass
class _Frame:
    path: Path_
    value: Any  # the dict or list being filled
    size: int = 1
    key: Any = _NO_KEY
    skip: bool = False
    merges: list[Any] = field(default_factory=list)
    anchor: str | None = None


class _EventBuilder:
    """Builds plain values and positions from libyaml's event stream (composing nodes is 10x slower)."""

    def __init__(self, loader: ManifestLoader, document: Document) -> None:
        self.loader = loader
        self.document = document
        self.written = 0  # nodes in the text
        self.copied = 0  # nodes aliases brought in again
        self.stack: list[_Frame] = []
        self.anchors: dict[str, tuple[Any, int]] = {}
        self.root: Any = None
        self.documents = 0

    def problem(self, mark: Any, message: str) -> None:
        self.document.problems.append(Problem(_position(self.document.file, mark), message))

    def run(self) -> Any:
        loader = self.loader
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, yaml.ScalarEvent):
                self.written += 1
                self.place(self.scalar(event), 1, event.start_mark, event.anchor)
            elif isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
                self.written += 1
                self.open(event)
            elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
                self.close()
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in self.anchors:
                    self.problem(event.start_mark, f"unknown alias *{event.anchor}")
                    self.place(None, 1, event.start_mark, None)
                else:
                    value, size = self.anchors[event.anchor]
                    self.copied += size
                    if self.copied > max(EXPANSION_FLOOR, EXPANSION_FACTOR * self.written):
                        raise _TooLarge
                    self.place(value, size, event.start_mark, None)
            elif isinstance(event, yaml.DocumentStartEvent):
                self.documents += 1
                if self.documents > 1:
                    self.problem(
                        event.start_mark, "a manifest holds one YAML document; remove the second `---`"
                    )
                    return self.root
        return self.root

    def child_path(self) -> Path_ | None:
        """The path the next value takes, or None when it is a mapping key."""
        if not self.stack:
            return ()
        top = self.stack[-1]
        if isinstance(top.value, list):
            return (*top.path, len(top.value))
        return None if top.key is _NO_KEY else (*top.path, top.key)

    def scalar(self, event: Any) -> Any:
        tag = event.tag
        if tag in (None, "!"):
            tag = (
                self.loader.resolve(yaml.ScalarNode, event.value, event.implicit)
                if event.implicit[0] or tag is None
                else _STR
            )
        if tag == _STR:
            return event.value
        if tag == "tag:yaml.org,2002:merge":
            return "<<"
        node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
        try:
            return self.loader.construct_object(node)
        except yaml.constructor.ConstructorError as exc:
            self.problem(event.start_mark, f"unsupported YAML value: {exc.problem}")
            return None

    def open(self, event: Any) -> None:
        if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            self.problem(event.start_mark, f"unsupported YAML tag {event.tag}")
        path = self.child_path()
        if path is None:
            self.problem(event.start_mark, "a key must be a plain value, not a mapping or list")
            path = (*self.stack[-1].path, "?")
        self.document.values.setdefault(path, _packed(event.start_mark))
        container: Any = {} if isinstance(event, yaml.MappingStartEvent) else []
        self.stack.append(_Frame(path, container, anchor=event.anchor))
        if len(self.stack) > MAX_DEPTH:
            raise _TooDeep

    def close(self) -> None:
        frame = self.stack.pop()
        if frame.merges:
            for merged in frame.merges:
                for source in merged if isinstance(merged, list) else [merged]:
                    if isinstance(source, dict):
                        for key, value in source.items():
                            frame.value.setdefault(key, value)
        mark = self.document.values.get(frame.path, 0)
        self.place(frame.value, frame.size, None, frame.anchor, packed=mark)

    def place(self, value: Any, size: int, mark: Any, anchor: str | None, packed: int | None = None) -> None:
        if anchor:
            self.anchors[anchor] = (value, size)
        if not self.stack:
            self.root = value
            return
        top = self.stack[-1]
        top.size += size
        where = packed if packed is not None else _packed(mark)
        if isinstance(top.value, list):
            self.document.values.setdefault((*top.path, len(top.value)), where)
            top.value.append(value)
        elif top.key is _NO_KEY:
            if isinstance(value, dict | list):
                top.key, top.skip = "?", True
            else:
                if not isinstance(value, str | int | float | bool) or value is None:
                    value = str(value)
                top.key = value
                path = (*top.path, value)
                top.skip = value in top.value
                if top.skip:
                    first = self.document.at(path, key=True).line
                    self.document.problems.append(
                        Problem(
                            Position(self.document.file, where >> 24, where & 0xFFFFFF),
                            f"duplicate key {value!r} (first at line {first})",
                        )
                    )
                elif value != "<<":
                    self.document.keys[path] = where
        else:
            if top.key == "<<" and not top.skip:
                top.merges.append(value)
            elif not top.skip:
                self.document.values.setdefault((*top.path, top.key), where)
                top.value[top.key] = value
            top.key, top.skip = _NO_KEY, False


def parse_yaml(text: str, file: str) -> Document:
    """Parses `text`; syntax errors, duplicate keys and alias bombs become problems, not exceptions."""
    document = Document(file)
    loader = ManifestLoader(text)
    builder = _EventBuilder(loader, document)
    try:
        document.value = builder.run()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = _position(file, mark) if mark else Position(file, 1, 1)
        document.problems.append(Problem(where, f"YAML syntax error: {exc.problem or exc.context}"))
        document.value = None
    except yaml.YAMLError as exc:
        document.problems.append(Problem(Position(file, 1, 1), f"YAML error: {exc}"))
        document.value = None
    except _TooDeep:
        document.value = None
        document.problems.append(Problem(Position(file, 1, 1), f"nested deeper than {MAX_DEPTH} levels"))
    except _TooLarge:
        document.value = None
        document.problems.append(
            Problem(
                Position(file, 1, 1), "document expands far beyond its size through aliases (a YAML bomb?)"
            )
        )
    finally:
        loader.dispose()
    return document
