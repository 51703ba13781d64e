"""A check compiled once from the response schema that recognises conforming bodies quickly.

It answers only "conforms, apart from these unknown fields" or "not sure". A body it is not sure
of goes to jsonschema, which explains every violation, so messages always come from one place.
The compiler accepts only the keywords it implements exactly; any other keyword in the schema
makes it refuse, and validation then runs entirely through jsonschema.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from audit.common.timeutil import is_real_utc, is_utc_shaped, utc_before

Path = tuple[str | int, ...]
# `unknown` collects the paths of fields an `additionalProperties: false` does not know; None
# means such a field fails the check (inside `if`, `anyOf` and `x-jsonString`, where jsonschema
# reports it as part of another error, not as an unknown field).
Check = Callable[[Any, Path, list[Path] | None], bool]

ANNOTATIONS = frozenset(
    {
        "$schema",
        "$id",
        "$comment",
        "$defs",
        "title",
        "description",
        "examples",
        "default",
        "x-message",
        "x-terminalStatuses",
        "x-successStatuses",
        "x-detailObjects",
        "x-idField",
        "x-endField",
        "x-pinned",
        "x-facets",
        "x-evidence",
    }
)


class NotCompilable(ValueError):
    """The schema uses a keyword, or a keyword value, the fast path does not implement exactly."""


def compile_schema(schema: Any) -> Check:
    """The schema's fast check; raises NotCompilable."""
    if schema is True:
        return _always
    if schema is False or not isinstance(schema, dict):
        raise NotCompilable(f"schema node {schema!r}")
    unsupported = set(schema) - ANNOTATIONS - _KEYWORDS
    if unsupported:
        raise NotCompilable(f"keywords {sorted(unsupported)}")
    checks = [build(schema) for keywords, build in _BUILDERS if not keywords.isdisjoint(schema)]
    checks = [check for check in checks if check is not _always]
    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]

    def all_of(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
        return all(check(instance, path, unknown) for check in checks)

    return all_of


def _always(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
    return True


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int) or (isinstance(value, float) and value.is_integer())


_TYPES: dict[str, Callable[[Any], bool]] = {
    "string": lambda v: isinstance(v, str),
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
    "integer": _is_integer,
}


def _type(schema: dict[str, Any]) -> Check:
    names = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
    if not names or any(name not in _TYPES for name in names):
        raise NotCompilable(f"type {schema['type']!r}")
    tests = [_TYPES[name] for name in names]
    if len(tests) == 1:
        test = tests[0]
        return lambda instance, path, unknown: test(instance)
    return lambda instance, path, unknown: any(test(instance) for test in tests)


def _one_of_strings(values: Any, keyword: str) -> Check:
    # jsonschema compares numbers, booleans and containers with its own equality rules; strings
    # are the only values whose equality is plain `==`, so only they are compiled.
    if not isinstance(values, list) or not all(isinstance(value, str) for value in values):
        raise NotCompilable(f"{keyword} with values other than strings")
    allowed = frozenset(values)
    return lambda instance, path, unknown: isinstance(instance, str) and instance in allowed


def _enum(schema: dict[str, Any]) -> Check:
    return _one_of_strings(schema["enum"], "enum")


def _const(schema: dict[str, Any]) -> Check:
    return _one_of_strings([schema["const"]], "const")


def _pattern(schema: dict[str, Any]) -> Check:
    search = re.compile(schema["pattern"]).search
    return lambda instance, path, unknown: not isinstance(instance, str) or search(instance) is not None


def _object(schema: dict[str, Any]) -> Check:
    """`properties`, `required` and `additionalProperties` of one node, in one pass over the object."""
    properties = {name: compile_schema(sub) for name, sub in schema.get("properties", {}).items()}
    required = tuple(schema.get("required", ()))
    extra = schema.get("additionalProperties", True)
    closed = extra is False
    # A schema for every other property (ActivityResults' nodes, keyed by name) is checked like one.
    other = compile_schema(extra) if isinstance(extra, dict) else None
    if other is None and not isinstance(extra, bool):
        raise NotCompilable("additionalProperties other than a schema, true or false")

    def check(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
        if not isinstance(instance, dict):
            return True
        for name in required:
            if name not in instance:
                return False
        for name, value in instance.items():
            sub = properties.get(name)
            if sub is not None:
                if not sub(value, (*path, name), unknown):
                    return False
            elif other is not None:
                if not other(value, (*path, name), unknown):
                    return False
            elif closed:
                if unknown is None:
                    return False
                unknown.append((*path, name))
        return True

    return check


def _items(schema: dict[str, Any]) -> Check:
    item = compile_schema(schema["items"])

    def check(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
        if not isinstance(instance, list):
            return True
        return all(item(value, (*path, index), unknown) for index, value in enumerate(instance))

    return check


def _unique_items(schema: dict[str, Any]) -> Check:
    if schema["uniqueItems"] is not True:
        return _always

    def check(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
        if not isinstance(instance, list):
            return True
        # Only strings are compared here; other items leave the answer to jsonschema.
        return all(isinstance(value, str) for value in instance) and len(set(instance)) == len(instance)

    return check


def _all_of(schema: dict[str, Any]) -> Check:
    subs = [compile_schema(sub) for sub in schema["allOf"]]
    return lambda instance, path, unknown: all(sub(instance, path, unknown) for sub in subs)


def _any_of(schema: dict[str, Any]) -> Check:
    subs = [compile_schema(sub) for sub in schema["anyOf"]]
    return lambda instance, path, unknown: any(sub(instance, path, None) for sub in subs)


def _if_then_else(schema: dict[str, Any]) -> Check:
    condition = compile_schema(schema["if"])
    then = compile_schema(schema.get("then", True))
    otherwise = compile_schema(schema.get("else", True))

    def check(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
        branch = then if condition(instance, path, None) else otherwise
        return branch(instance, path, unknown)

    return check


def _json_string(schema: dict[str, Any]) -> Check:
    inner = compile_schema(schema["x-jsonString"])

    def check(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
        if not isinstance(instance, str):
            return True
        try:
            parsed = json.loads(instance)
        except (ValueError, RecursionError):
            return False
        return inner(parsed, (), None)

    return check


def _calendar(schema: dict[str, Any]) -> Check:
    if schema["x-calendar"] is not True:
        raise NotCompilable("x-calendar other than true")
    return lambda instance, path, unknown: not is_utc_shaped(instance) or is_real_utc(instance)


def _time_order(schema: dict[str, Any]) -> Check:
    pairs = [(start, end) for start, end in schema["x-timeOrder"]]

    def check(instance: Any, path: Path, unknown: list[Path] | None) -> bool:
        if not isinstance(instance, dict):
            return True
        return not any(utc_before(instance.get(end), instance.get(start)) for start, end in pairs)

    return check


# Cheap checks first: a body that fails its type or enum needs no walk through its fields.
_BUILDERS: tuple[tuple[frozenset[str], Callable[[dict[str, Any]], Check]], ...] = tuple(
    (frozenset(keywords.split()), build)
    for keywords, build in (
        ("type", _type),
        ("const", _const),
        ("enum", _enum),
        ("pattern", _pattern),
        ("properties required additionalProperties", _object),
        ("items", _items),
        ("uniqueItems", _unique_items),
        ("x-timeOrder", _time_order),
        ("x-calendar", _calendar),
        ("x-jsonString", _json_string),
        ("allOf", _all_of),
        ("anyOf", _any_of),
        ("if", _if_then_else),
    )
)
_KEYWORDS = frozenset().union(*(keywords for keywords, _ in _BUILDERS)) | {"then", "else"}
