"""Validates GetJobDetail bodies against the schemas; violations are data, never exceptions."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from audit.common.jobtypes import catalogue
from audit.common.schemafiles import all_schemas
from audit.common.timeutil import is_utc_shaped, parse_utc
from audit.schema.fastpath import Check, NotCompilable, Path, compile_schema
from audit.schema.messages import custom_message, unknown_properties

# violation: breaks a rule the reference or an official SDK model states (the job is `invalid`);
# warning: breaks a rule of ours, or a listed value the service may have added to (reported, counted);
# note: a field the schema does not know (the service adds fields over time). --strict makes all three
# violations.
Severity = Literal["violation", "warning", "note"]
Evidence = Literal["reference", "sdk", "standard", "inferred"]  # standard: the JSON RFCs
log = logging.getLogger("audit.schema")

# Rules that presume the object is the job's own: a detail object of another JobType is checked for
# types and formats only (the reference's own sample carries all three detail objects).
_OWN_OBJECT_RULES = frozenset({"required", "x-timeOrder"})


@dataclass(frozen=True, slots=True)
class Violation:
    """One place where a document departs from its schema, and how much that matters."""

    pointer: str
    message: str
    severity: Severity = "violation"
    rule: str = ""  # the schema keyword that failed, e.g. `required`
    evidence: Evidence = "inferred"  # where that rule comes from


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
        # Keyword and schema of the inner error kept, so that its own evidence decides its severity.
        yield ValidationError(
            f"parsed JSON{' at ' + where if where else ''}: {_message(error)}",
            validator=error.validator,
            validator_value=error.validator_value,
            instance=error.instance,
            schema=error.schema,
        )


def _calendar(validator: Any, enabled: Any, instance: Any, schema: Any) -> Iterator[Any]:
    """Keyword `x-calendar`: a string of the time's form must name a real instant (no 30 February)."""
    from jsonschema import ValidationError

    if enabled and is_utc_shaped(instance) and parse_utc(instance) is None:
        yield ValidationError(f"{instance!r} is not a real calendar time")


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
        Draft202012Validator,
        {"x-jsonString": _json_string, "x-timeOrder": _time_order, "x-calendar": _calendar},
    )
    return extended(_schema())


@cache
def _fast_check() -> Check | None:
    try:
        return compile_schema(_schema())
    except NotCompilable as exc:
        log.debug("validating every body with jsonschema: %s", exc)
        return None


def evidence(error: Any) -> Evidence:
    """Where the failing rule comes from, as the schema records it (`x-evidence` by keyword).

    A rule without a recorded source is ours: it may warn, never make a job invalid by itself.
    """
    recorded = error.schema.get("x-evidence", {}) if isinstance(error.schema, dict) else {}
    found = recorded.get(error.validator, "inferred")
    return found if found in ("reference", "sdk") else "inferred"


def severity(error: Any, strict: bool) -> Severity:
    """A violation for a stated rule; a warning for ours, or a value outside a listed enum."""
    if strict:
        return "violation"
    if error.validator == "enum" or evidence(error) == "inferred":
        return "warning"
    return "violation"


def _violations(error: Any, strict: bool) -> Iterator[Violation]:
    base = to_pointer(error.absolute_path)
    unknown = unknown_properties(error)
    for name in unknown:
        yield _unknown_field(base + to_pointer((name,)), strict)
    if not unknown:
        yield Violation(base, _message(error), severity(error, strict), str(error.validator), evidence(error))


def _unknown_field(pointer: str, strict: bool) -> Violation:
    # The service adds fields over time: an unknown one is a note unless --strict.
    severity: Severity = "violation" if strict else "note"
    return Violation(
        pointer, "unknown field (the schema does not define it)", severity, "additionalProperties"
    )


def _other_detail_objects(body: Any) -> frozenset[str]:
    """The detail objects a body carries that are not its JobType's."""
    if not isinstance(body, dict):
        return frozenset()
    types, named = catalogue(), body.get("JobType")
    own = types[named].detail_object if isinstance(named, str) and named in types else None
    return frozenset(
        t.detail_object for t in types.values() if t.detail_object != own and t.detail_object in body
    )


def _applies(error: Any, others: frozenset[str]) -> bool:
    path = error.absolute_path
    return not (others and path and path[0] in others and error.validator in _OWN_OBJECT_RULES)


def _sorted(found: list[Violation]) -> tuple[Violation, ...]:
    return tuple(sorted(set(found), key=lambda v: (v.pointer, v.message, v.severity)))


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
    others = _other_detail_objects(body)
    try:
        errors = [error for error in _validator().iter_errors(body) if _applies(error, others)]
        found = [v for error in errors for v in _violations(error, strict)]
    except RecursionError:
        # Not a schema rule: a body too deep to check cannot be called valid.
        return (Violation("", "document is nested too deeply to validate", rule="depth"),)
    return _sorted(found)


def is_valid(violations: tuple[Violation, ...]) -> bool:
    """True when nothing is a violation (warnings and notes do not count)."""
    return all(v.severity != "violation" for v in violations)
