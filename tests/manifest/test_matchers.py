"""Matcher properties (hypothesis) and a table of their meanings."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.manifest.matchers import (
    MATCHER_KEYS,
    MISSING,
    Absent,
    Contains,
    Equals,
    Matches,
    Not,
    OneOf,
    Present,
    Subset,
    parse,
    same,
)

SETTINGS = settings(max_examples=300, deadline=None, derandomize=True)
scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8)
values = st.recursive(
    scalars,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=5), c, max_size=4),
    max_leaves=12,
)
matcher_specs = st.recursive(
    st.one_of(
        scalars,
        st.lists(scalars, min_size=1, max_size=4).map(lambda v: {"one_of": v}),
        st.sampled_from(["^a", "b$", "[0-9]+", "x|y"]).map(lambda p: {"matches": p}),
        st.lists(st.text(max_size=3), min_size=1, max_size=3).map(lambda v: {"contains": v}),
        st.just({"present": True}),
        st.just({"absent": True}),
    ),
    lambda inner: inner.filter(lambda m: isinstance(m, dict)).map(lambda m: {"not": m}),
    max_leaves=3,
)


@SETTINGS
@given(matcher_specs, values | st.just(MISSING))
def test_not_inverts(spec, actual):
    matcher = parse(spec)
    assert Not(matcher).check(actual) is (not matcher.check(actual))


@SETTINGS
@given(scalars, values | st.just(MISSING))
def test_one_of_a_single_value_is_equality(value, actual):
    assert parse({"one_of": [value]}).check(actual) == parse(value).check(actual)


@SETTINGS
@given(
    st.dictionaries(
        st.text(min_size=1, max_size=6).filter(lambda k: k not in MATCHER_KEYS),
        values,
        min_size=1,
        max_size=5,
    )
)
def test_subset_matching_is_reflexive(document):
    matcher = parse(document, structured=True)
    assert matcher.check(document)
    assert matcher.check(json.dumps(document))  # JSON carried in a string, as the API sends it


@SETTINGS
@given(values)
def test_same_is_reflexive(value):
    assert same(value, value)


@pytest.mark.parametrize(
    ("spec", "actual", "expected"),
    [
        ("HD", "HD", True),
        ("HD", "hd", False),
        (1, True, False),
        (True, 1, False),
        (32, 32.0, True),
        (32, "32", False),
        ({"one_of": ["HD", "FHD"]}, "FHD", True),
        ({"one_of": ["HD", "FHD"]}, MISSING, False),
        ({"matches": "^dbf"}, "dbfaaec9", True),
        ({"matches": "^dbf"}, 42, False),
        ({"contains": ["porn", "terrorism"]}, ["terrorism", "porn", "ad"], True),
        ({"contains": ["porn", "terrorism"]}, ["porn"], False),
        ({"contains": "Censor"}, "AIVideoCensor", True),
        ({"present": True}, "x", True),
        ({"present": True}, None, False),
        ({"present": True}, MISSING, False),
        ({"absent": True}, MISSING, True),
        ({"absent": True}, "", False),
        ({"not": {"one_of": ["fail"]}}, "success", True),
        ({"not": {"absent": True}}, MISSING, False),
    ],
)
def test_matcher_table(spec, actual, expected):
    assert parse(spec).check(actual) is expected


def test_subset_on_json_in_string_recurses_and_names_the_key():
    matcher = parse(
        {"AuditItem": {"contains": ["terrorism"]}, "num": 32, "deep": {"x": {"absent": True}}},
        structured=True,
    )
    good = json.dumps({"AuditItem": ["terrorism", "porn"], "num": 32, "deep": {"y": 1}})
    assert matcher.check(good)
    bad = json.dumps({"AuditItem": ["porn"], "num": 8, "deep": {"x": 1}})
    assert [path for path, _, _ in matcher.failures(bad)] == [".AuditItem", ".num", ".deep.x"]
    assert matcher.failures("{not json") == [(".", matcher, "{not json")]


def test_parse_builds_the_right_types():
    assert parse("x") == Equals("x")
    assert parse({"one_of": [1, 2]}) == OneOf((1, 2))
    assert parse({"matches": "a"}) == Matches("a")
    assert parse({"contains": "a"}) == Contains(("a",))
    assert parse({"present": True}) == Present()
    assert parse({"absent": True}) == Absent()
    assert parse({"not": {"present": True}}) == Not(Present())
    assert isinstance(parse({"a": 1}, structured=True), Subset)
    with pytest.raises(ValueError):
        parse({"a": 1})
