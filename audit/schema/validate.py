"""Validates GetJobDetail bodies against the schemas; violations are data, never exceptions."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from audit.schema.fastpath import Check, NotCompilable, Path, compile_schema
from audit.schema.messages import custom_message, unknown_properties
from audit.schema.store import all_schemas
from audit.timeutil import parse_utc

Severity = Literal["error", "note"]
log = logging.getLogger("audit.schema")


@dataclass(frozen=True, slots=True)
class Violation:
    """One place where a document departs from its schema."""

    pointer: str
    message: str
    severity: Severity = "error"


def to_pointer(parts: Any) -> str:
    """RFC 6901 JSON Pointer of a path."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def _json_string(validator: Any, subschema: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """Keyword `x-jsonString`: the string must parse as JSON valid against the subschema."""
    from jsonschema import ValidationError

    if not isinstance(instance, str):
        return
    try:
        parsed = json.loads(instance)
    except (ValueError, RecursionError) as exc:
        yield ValidationError(f"is not valid JSON ({exc})")
        return
    for error in validator.descend(parsed, subschema):
        where = to_pointer(error.absolute_path)
        yield ValidationError(f"parsed JSON{' at ' + where if where else ''}: {_message(error)}")


def _time_order(validator: Any, pairs: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """Keyword `x-timeOrder`: for each [start, end], end is not before start."""
    from jsonschema import ValidationError

    if not isinstance(instance, dict):
        return
    for start, end in pairs:
        begun, ended = parse_utc(instance.get(start)), parse_utc(instance.get(end))
        if begun and ended and ended < begun:
            yield ValidationError(f"{end} {instance[end]} is before {start} {instance[start]}", path=(end,))


def _message(error: Any) -> str:
    return custom_message(error) or str(error.message)


def _inline(node: Any, schemas: dict[str, Any]) -> Any:
    """The schema with every `$ref` replaced by its target (ours have no cycles)."""
    if isinstance(node, list):
        return [_inline(item, schemas) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" not in node:
        return {key: _inline(value, schemas) for key, value in node.items()}
    base, _, fragment = node["$ref"].partition("#")
    target = schemas[base]
    for part in filter(None, fragment.split("/")):
        target = target[part]
    merged = {**_inline(target, schemas), **{k: _inline(v, schemas) for k, v in node.items() if k != "$ref"}}
    merged.pop("$id", None)
    merged.pop("$schema", None)
    return merged


@cache
def _schema() -> Any:
    # References inlined once: a run validates up to 100,000 bodies, and resolving `$ref`s through
    # the registry on each was a third of the cost.
    schemas = all_schemas()
    return _inline(schemas["urn:vod-audit:envelope"], schemas)


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator, validators

    extended = validators.extend(
        Draft202012Validator, {"x-jsonString": _json_string, "x-timeOrder": _time_order}
    )
    return extended(_schema())


@cache
def _fast_check() -> Check | None:
    try:
        return compile_schema(_schema())
    except NotCompilable as exc:
        log.debug("validating every body with jsonschema: %s", exc)
        return None


def _violations(error: Any, strict: bool) -> Iterator[Violation]:
    base = to_pointer(error.absolute_path)
    unknown = unknown_properties(error)
    for name in unknown:
        yield _unknown_field(base + to_pointer((name,)), strict)
    if not unknown:
        yield Violation(base, _message(error))


def _unknown_field(pointer: str, strict: bool) -> Violation:
    # The service adds fields over time: an unknown one is a note unless --strict.
    return Violation(pointer, "unknown field (the schema does not define it)", "error" if strict else "note")


def _sorted(found: list[Violation]) -> tuple[Violation, ...]:
    return tuple(sorted(set(found), key=lambda v: (v.pointer, v.message)))


def validate_response(body: Any, *, strict: bool = False) -> tuple[Violation, ...]:
    """Every violation of a GetJobDetail body, sorted by pointer; never raises."""
    check = _fast_check()
    if check is not None:
        unknown: list[Path] = []
        try:
            conforms = check(body, (), unknown)
        except RecursionError:
            conforms = False
        if conforms:
            return _sorted([_unknown_field(to_pointer(path), strict) for path in unknown])
    return explain(body, strict=strict)


def explain(body: Any, *, strict: bool = False) -> tuple[Violation, ...]:
    """What validate_response returns, found by jsonschema alone: the slow path, and the reference."""
    try:
        found = [v for error in _validator().iter_errors(body) for v in _violations(error, strict)]
    except RecursionError:
        return (Violation("", "document is nested too deeply to validate"),)
    return _sorted(found)


def is_valid(violations: tuple[Violation, ...]) -> bool:
    """True when no violation is an error (notes do not count)."""
    return all(v.severity != "error" for v in violations)
