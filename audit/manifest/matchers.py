"""Matchers of the manifest language, as pure frozen values: parse, check, describe."""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

MATCHER_KEYS = ("one_of", "matches", "contains", "present", "absent", "not")
_MISSING: Any = object()


def same(expected: Any, actual: Any) -> bool:
    """Equality as the API means it: no True == 1, 32 == 32.0, containers compared deeply."""
    if isinstance(expected, bool) or isinstance(actual, bool):
        return isinstance(expected, bool) and isinstance(actual, bool) and expected is actual
    if isinstance(expected, int | float) and isinstance(actual, int | float):
        return expected == actual
    if isinstance(expected, list) and isinstance(actual, list):
        return len(expected) == len(actual) and all(same(e, a) for e, a in zip(expected, actual, strict=True))
    if isinstance(expected, dict) and isinstance(actual, dict):
        return expected.keys() == actual.keys() and all(same(v, actual[k]) for k, v in expected.items())
    return type(expected) is type(actual) and expected == actual


def show(value: Any) -> str:
    """A value as a person reads it in a finding: JSON, so strings keep their quotes."""
    if value is _MISSING:
        return "missing"
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return repr(value)


def typed(value: Any) -> tuple[Any, ...]:
    """`value` with the type of every part: 0, False and 0.0 are three expectations, as the manifest
    writes them, where Python's == (and so a dict key) says they are one."""
    if isinstance(value, list | tuple):
        return (type(value).__name__, tuple(typed(item) for item in value))
    if isinstance(value, dict):
        return ("dict", tuple((typed(key), typed(item)) for key, item in value.items()))
    return (type(value).__name__, value)


class Matcher:
    """A test of one value; `actual` is _MISSING when the field is absent. Two matchers are equal
    when they test the same values of the same types (`typed`)."""

    def check(self, actual: Any) -> bool:
        raise NotImplementedError

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class Equals(Matcher):
    value: Any

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and typed(self.value) == typed(other.value)

    def __hash__(self) -> int:
        return hash(("Equals", typed(self.value)))

    def check(self, actual: Any) -> bool:
        return actual is not _MISSING and same(self.value, actual)

    def describe(self) -> str:
        return show(self.value)


@dataclass(frozen=True)
class OneOf(Matcher):
    values: tuple[Any, ...]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and typed(self.values) == typed(other.values)

    def __hash__(self) -> int:
        return hash(("OneOf", typed(self.values)))

    def check(self, actual: Any) -> bool:
        return actual is not _MISSING and any(same(v, actual) for v in self.values)

    def describe(self) -> str:
        return "one of " + ", ".join(show(v) for v in self.values)


@dataclass(frozen=True)
class Matches(Matcher):
    pattern: str

    def check(self, actual: Any) -> bool:
        return isinstance(actual, str) and linear_regex(self.pattern).search(actual) is not None

    def describe(self) -> str:
        return f"matching /{self.pattern}/"


@cache
def linear_regex(pattern: str) -> Any:
    """The pattern compiled by RE2, whose matching time grows linearly with the text.

    Patterns come from manifests and values from the API: Python's backtracking engine can spin for
    hours on a pattern such as ^(a+)+$, and nothing interrupts it. RE2 refuses what it cannot run in
    linear time (backreferences, lookaround), with a ValueError saying so.
    """
    import re

    import re2

    try:
        re.compile(pattern)
    except re.error as exc:
        raise ValueError(f"matches: invalid regular expression: {exc}") from None
    options = re2.Options()
    options.log_errors = False  # the reason is in the exception; RE2 would also print it to stderr
    try:
        return re2.compile(pattern, options=options)
    except re2.error as exc:
        reason = (
            exc.args[0].decode("utf-8", "replace") if exc.args and isinstance(exc.args[0], bytes) else exc
        )
        raise ValueError(
            f"matches: {reason}: patterns run in time proportional to the text (RE2), "
            "which rules out backreferences and lookaround"
        ) from None


@dataclass(frozen=True)
class Contains(Matcher):
    items: tuple[Any, ...]

    def __eq__(self, other: object) -> bool:
        return type(other) is type(self) and typed(self.items) == typed(other.items)

    def __hash__(self) -> int:
        return hash(("Contains", typed(self.items)))

    def check(self, actual: Any) -> bool:
        if isinstance(actual, list):
            return all(any(same(item, a) for a in actual) for item in self.items)
        if isinstance(actual, str):
            return all(isinstance(item, str) and item in actual for item in self.items)
        return False

    def describe(self) -> str:
        return "containing " + ", ".join(show(v) for v in self.items)


@dataclass(frozen=True)
class Present(Matcher):
    def check(self, actual: Any) -> bool:
        return actual is not _MISSING and actual is not None

    def describe(self) -> str:
        return "present"


@dataclass(frozen=True)
class Absent(Matcher):
    def check(self, actual: Any) -> bool:
        return actual is _MISSING or actual is None

    def describe(self) -> str:
        return "absent"


@dataclass(frozen=True)
class Not(Matcher):
    inner: Matcher

    def check(self, actual: Any) -> bool:
        return not self.inner.check(actual)

    def describe(self) -> str:
        return f"not {self.inner.describe()}"


@dataclass(frozen=True)
class Subset(Matcher):
    """Each named key of the value (parsed first when it is a JSON string) satisfies its matcher."""

    fields: tuple[tuple[str, Matcher], ...]

    def check(self, actual: Any) -> bool:
        return not self.failures(actual)

    def failures(self, actual: Any, prefix: str = "") -> list[tuple[str, Matcher, Any]]:
        """(path, matcher, actual) of every key that fails, recursing into nested subsets."""
        parsed = parse_json_string(actual)
        if not isinstance(parsed, dict):
            return [(prefix or ".", self, actual)]
        found: list[tuple[str, Matcher, Any]] = []
        for key, matcher in self.fields:
            value = parsed.get(key, _MISSING)
            path = f"{prefix}.{key}"
            if isinstance(matcher, Subset):
                found.extend(matcher.failures(value, path))
            elif not matcher.check(value):
                found.append((path, matcher, value))
        return found

    def describe(self) -> str:
        return "{" + ", ".join(f"{key}: {matcher.describe()}" for key, matcher in self.fields) + "}"


def parse_json_string(value: Any) -> Any:
    """A JSON-in-string field's parsed value; other values as they are; _MISSING if it does not parse."""
    if isinstance(value, str):
        try:
            return json.loads(value)
        except (ValueError, RecursionError):
            return _MISSING
    return value


def is_matcher_mapping(raw: Any) -> bool:
    return isinstance(raw, Mapping) and len(raw) == 1 and next(iter(raw)) in MATCHER_KEYS


# Subset matches and `not` nest; no payload of the API is anywhere near this deep.
MAX_NESTING = 64


def parse(raw: Any, *, structured: bool = False, depth: int = 0) -> Matcher:
    """The matcher a manifest value means; ValueError with a readable reason when malformed.

    `structured` fields (JSON in strings, nested objects) read a plain mapping as a subset match.
    """
    if depth > MAX_NESTING:
        raise ValueError(f"matchers nest at most {MAX_NESTING} levels deep")
    if is_matcher_mapping(raw):
        ((key, argument),) = raw.items()
        return _parse_keyword(key, argument, depth)
    if isinstance(raw, Mapping):
        if not structured:
            keys = ", ".join(map(str, raw))
            raise ValueError(
                f"a mapping here must be one matcher ({', '.join(MATCHER_KEYS)}), got keys: {keys}"
            )
        return Subset(tuple((str(k), parse(v, structured=True, depth=depth + 1)) for k, v in raw.items()))
    return Equals(raw)


def _parse_keyword(key: str, argument: Any, depth: int) -> Matcher:
    if key == "one_of":
        if not isinstance(argument, list) or not argument:
            raise ValueError("one_of takes a non-empty list of values")
        return OneOf(tuple(argument))
    if key == "matches":
        if not isinstance(argument, str):
            raise ValueError("matches takes a regular expression string")
        linear_regex(argument)  # ValueError for a pattern that cannot run in bounded time
        return Matches(argument)
    if key == "contains":
        items = argument if isinstance(argument, list) else [argument]
        if not items or any(isinstance(item, dict | list) for item in items):
            raise ValueError("contains takes a value or a non-empty list of plain values")
        return Contains(tuple(items))
    if key in ("present", "absent"):
        if argument is not True:
            raise ValueError(f"{key} takes only `true` (use not: {{{key}: true}} for the opposite)")
        return Present() if key == "present" else Absent()
    if not isinstance(argument, Mapping) or not is_matcher_mapping(argument):
        raise ValueError(f"not takes one matcher ({', '.join(MATCHER_KEYS)}), e.g. not: {{one_of: [a, b]}}")
    return Not(parse(argument, depth=depth + 1))


def failures(matcher: Matcher, actual: Any) -> list[tuple[str, Matcher, Any]]:
    """Where `actual` fails `matcher`: subset matches name each failing key, others the value itself."""
    if isinstance(matcher, Subset):
        return matcher.failures(actual)
    return [] if matcher.check(actual) else [("", matcher, actual)]


MISSING = _MISSING
