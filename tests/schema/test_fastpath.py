"""The compiled fast path agrees with jsonschema: on generated bodies, mutated ones and small schemas."""

from __future__ import annotations

import contextlib
import copy
import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from audit.emulator.generate import generate
from audit.schema.fastpath import NotCompilable, compile_schema
from audit.schema.validate import _fast_check, explain, validate_response
from tests.bodies import DETAILS, body, reference_sample

GENERATED = [
    {"RequestId": f"R-{i}", **b} for i, b in enumerate(generate(400, 11, datetime(2026, 1, 1, tzinfo=UTC)))
]
SAMPLES = GENERATED[:60] + [body(t) for t in DETAILS] + [reference_sample()]

scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=12,
)


def test_the_shipped_schema_compiles():
    assert _fast_check() is not None


def test_every_generated_body_is_recognised_and_agrees():
    check = _fast_check()
    assert check is not None
    for document in GENERATED:
        assert check(document, (), []), document
        for strict in (False, True):
            assert validate_response(document, strict=strict) == explain(document, strict=strict)


def _places(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every path in a document, JSON strings included (a step "json" parses the string)."""
    found = [path]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _places(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += _places(value, (*path, index))
    elif isinstance(node, str) and node[:1] in "{[":
        with contextlib.suppress(ValueError):
            found += _places(json.loads(node), (*path, "json"))
    return found


def _edit(document: Any, path: tuple[Any, ...], change: Any) -> Any:
    """The document with `change(value)` applied at `path`; None from change deletes the value."""
    if not path:
        return change(document)
    head, rest = path[0], path[1:]
    if head == "json" and isinstance(document, str):
        parsed = _edit(json.loads(document), rest, change)
        return parsed if parsed is _DELETE else json.dumps(parsed)
    copied = copy.copy(document)
    new = _edit(copied[head], rest, change)
    if new is _DELETE:
        del copied[head]
    else:
        copied[head] = new
    return copied


_DELETE = object()

mutations = st.one_of(
    st.tuples(st.just("replace"), json_values),
    st.tuples(st.just("delete"), st.none()),
    st.tuples(st.just("add"), st.tuples(st.text(min_size=1, max_size=8), json_values)),
    st.tuples(
        st.just("retime"),
        st.sampled_from(["2030-01-01T00:00:00Z", "1999-12-31T23:59:59Z", "2024-02-30T00:00:00Z"]),
    ),
)


def _mutate(document: Any, path: tuple[Any, ...], kind: str, value: Any) -> Any:
    def change(old: Any) -> Any:
        if kind == "replace" or kind == "retime":
            return value
        if kind == "delete":
            return _DELETE if path else old
        name, new = value
        return {**old, name: new} if isinstance(old, dict) else old

    return _edit(document, path, change)


@settings(max_examples=700, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.sampled_from(SAMPLES), st.lists(st.tuples(st.integers(0, 10_000), mutations), min_size=1, max_size=3)
)
def test_mutated_bodies_get_the_same_violations_as_from_jsonschema(sample, edits):
    document = sample
    for where, (kind, value) in edits:
        places = _places(document)
        document = _mutate(document, places[where % len(places)], kind, value)
    for strict in (False, True):
        found = validate_response(document, strict=strict)
        assert found == explain(document, strict=strict)
        if not strict:
            assert all(
                v.evidence != "inferred" for v in found if v.severity == "violation" and v.rule != "depth"
            )


SMALL_SCHEMAS = [
    {"type": "integer"},
    {"type": "number"},
    {"type": ["string", "null"]},
    {"type": "boolean"},
    {"enum": ["a", "b"]},
    {"const": "x"},
    {"type": "string", "pattern": "^[0-9a-f]{4}$"},
    {"type": "array", "items": {"type": "string"}, "uniqueItems": True},
    {
        "type": "object",
        "required": ["a"],
        "properties": {"a": {"type": "integer"}},
        "additionalProperties": False,
    },
    {"anyOf": [{"type": "string"}, {"type": "object", "properties": {}, "additionalProperties": False}]},
    {"type": "object", "properties": {"a": {"type": "string"}}, "additionalProperties": {"type": "integer"}},
    {
        "if": {"properties": {"k": {"const": "x"}}, "required": ["k"]},
        "then": {"required": ["v"]},
        "else": {"properties": {"v": {"type": "null"}}},
    },
    {"allOf": [{"type": "object"}, {"properties": {"a": {"type": "string"}}, "additionalProperties": False}]},
]


def _reference(schema: dict[str, Any], instance: Any) -> tuple[bool, list[tuple[Any, ...]]]:
    """(conforms apart from unknown fields, their paths) by jsonschema."""
    unknown: list[tuple[Any, ...]] = []
    for error in Draft202012Validator(schema).iter_errors(instance):
        if error.validator != "additionalProperties":
            return False, []
        known = error.schema.get("properties", {})
        unknown += [(*error.absolute_path, name) for name in error.instance if name not in known]
    return True, unknown


@settings(max_examples=400, deadline=None, derandomize=True)
@given(st.sampled_from(SMALL_SCHEMAS), json_values)
def test_a_conforming_answer_is_jsonschemas(schema, instance):
    unknown: list[tuple[Any, ...]] = []
    if compile_schema(schema)(instance, (), unknown):
        assert _reference(schema, instance) == (True, unknown)


@pytest.mark.parametrize(
    ("schema", "instance", "conforms"),
    [
        ({"type": "integer"}, 1.0, True),
        ({"type": "integer"}, True, False),
        ({"type": "number"}, False, False),
        ({"enum": ["true"]}, True, False),
        ({"type": "object", "additionalProperties": False}, {"x": 1}, True),
        ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"a": "s", "b": 1}, True),
        ({"properties": {"a": {}}, "additionalProperties": {"type": "integer"}}, {"b": "s"}, False),
        ({"anyOf": [{"type": "object", "additionalProperties": False}]}, {"x": 1}, False),
        ({"x-jsonString": {"type": "object", "additionalProperties": False}}, '{"x": 1}', False),
        ({"x-jsonString": {"type": "object"}}, "{not json", False),
        ({"x-timeOrder": [["A", "B"]]}, {"A": "2024-01-02T00:00:00Z", "B": "2024-01-01T00:00:00Z"}, False),
    ],
)
def test_keyword_semantics(schema, instance, conforms):
    assert compile_schema(schema)(instance, (), []) is conforms


@pytest.mark.parametrize(
    "schema",
    [
        {"minimum": 1},
        {"enum": [1, 2]},
        {"const": True},
        {"type": "decimal"},
        {"additionalProperties": {"minimum": 1}},
        {"additionalProperties": 1},
        {"patternProperties": {"^a": {"type": "string"}}},
        {"properties": {"a": False}},
    ],
)
def test_keywords_it_does_not_implement_exactly_are_refused(schema):
    with pytest.raises(NotCompilable):
        compile_schema(schema)
