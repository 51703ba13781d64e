"""What values an expectation may name: the ones each field's schema allows (enum, integer, string)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from audit.common.jobtypes import catalogue
from audit.common.suggest import suggest
from audit.manifest import matchers


def literal_problems(job_type: str, name: str, value: Any) -> list[str]:
    """Why a manifest could not say `name: value` for this job type (not a listed value, wrong type)."""
    spec = catalogue()[job_type].fields.get(name)
    if spec is None:
        return [f"unknown field {name!r} for {job_type} jobs"]
    return value_problems(job_type, name, spec, matchers.Equals(value))


def _literals(matcher: matchers.Matcher) -> list[Any]:
    if isinstance(matcher, matchers.Equals):
        return [matcher.value]
    if isinstance(matcher, matchers.OneOf):
        return list(matcher.values)
    if isinstance(matcher, matchers.Not):
        return _literals(matcher.inner)
    return []


def value_problems(job_type: str, name: str, spec: Mapping[str, Any], matcher: matchers.Matcher) -> list[str]:
    """Literal values of a matcher that the field's schema rules out (enum, integer, string)."""
    if isinstance(matcher, matchers.Subset) and "properties" in spec:
        # A nested object (Workflow): check each named key against its own schema.
        return [
            problem
            for key, inner in matcher.fields
            if key in spec["properties"]
            for problem in value_problems(job_type, f"{name}.{key}", spec["properties"][key], inner)
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
