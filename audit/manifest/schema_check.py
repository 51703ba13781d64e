"""The manifest schema check: every jsonschema error as a Problem at its `file:line:col`."""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable
from functools import cache
from typing import Any

from audit.common.jobtypes import NAMES
from audit.common.schemafiles import schema_document
from audit.common.suggest import suggest
from audit.manifest.matchers import typed
from audit.manifest.positions import Document, Path_, Problem
from audit.schema.messages import custom_message, described_type, json_type, unknown_properties


@cache
def _validator() -> Any:
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema_document("manifest"))


def _shape(job: Any) -> Hashable:
    """A job with its id blanked: jobs of one shape pass or fail the schema alike."""
    if isinstance(job, dict) and isinstance(job.get("id"), str):
        job = {**job, "id": "x" if job["id"] else ""}
    if isinstance(job, dict) and all(isinstance(v, str | int | float | bool | None) for v in job.values()):
        # Flat jobs, the common case, without serialising them; types kept apart (1 == True).
        return frozenset((type(k), k, type(v), v) for k, v in job.items())
    # Every key's and value's type kept: {1: a} and {"1": a} are two shapes, and mixed keys sort no way.
    return typed(job)


def _schema_errors(value: Any) -> Iterable[tuple[Path_, Any]]:
    """(path, error) of every schema error; each distinct job shape is validated once."""
    validator = _validator()
    jobs = value.get("jobs") if isinstance(value, dict) else None
    if not isinstance(jobs, list):
        for error in validator.iter_errors(value):
            yield tuple(error.absolute_path), error
        return
    for error in validator.iter_errors({**value, "jobs": []}):
        yield tuple(error.absolute_path), error
    by_shape: dict[Hashable, list[Any]] = {}
    for index, job in enumerate(jobs):
        shape = _shape(job)
        if shape not in by_shape:
            by_shape[shape] = list(validator.iter_errors({"version": 1, "jobs": [job]}))
        for error in by_shape[shape]:
            yield ("jobs", index, *tuple(error.absolute_path)[2:]), error


def _slashed(path: Path_) -> str:
    return "/".join(map(str, path))


SECRET_KEYS = {"access_key_id", "access_key_secret", "security_token", "sts_token"}
NOTIFY_SECRET_KEYS = {"url", "webhook", "webhook_url", "secret", "token", "access_token", "password", "key"}


def _unknown_keys(document: Document, path: Path_, error: Any) -> list[Problem]:
    known = error.schema.get("properties", {})
    return [
        Problem(document.at((*path, name), key=True), f"unknown key {name!r}{_hint(str(name), known)}")
        for name in unknown_properties(error)
    ]


def _hint(name: str, known: Any) -> str:
    if name in NOTIFY_SECRET_KEYS and "url_env" in known:
        return (
            ": a webhook URL or secret never goes in a manifest; name the environment variable that "
            "holds it with url_env (or secret_env), or a file with url_file"
        )
    if name in SECRET_KEYS and "credentials_env" in known:
        return (
            ": credentials never go in a manifest; name the environment variables that hold them "
            "under credentials_env, or use profile"
        )
    return suggest(name, known)


def _required(document: Document, path: Path_, error: Any) -> list[Problem]:
    missing = error.message.split("'")[1] if "'" in error.message else error.message
    return [Problem(document.at(path), f"missing required key {missing!r}")]


def _enum(document: Document, path: Path_, error: Any) -> list[Problem]:
    if not (path and path[-1] == "type"):
        return _generic(document, path, error)
    hint = suggest(str(error.instance), NAMES)
    return [Problem(document.at(path), f"{error.instance!r} is not a job type ({', '.join(NAMES)}){hint}")]


def _const(document: Document, path: Path_, error: Any) -> list[Problem]:
    return [Problem(document.at(path), f"{_slashed(path)} must be {error.validator_value!r}")]


def _pattern(document: Document, path: Path_, error: Any) -> list[Problem]:
    message = custom_message(error)
    if message is None:
        return _generic(document, path, error)
    if "propertyNames" in error.absolute_schema_path:  # a property name: point at the key itself
        return [Problem(document.at((*path, error.instance), key=True), message)]
    return [Problem(document.at(path), message)]


def _any_of(document: Document, path: Path_, error: Any) -> list[Problem]:
    custom = error.schema.get("x-message") if isinstance(error.schema, dict) else None
    if custom is None:
        return _generic(document, path, error)
    return [Problem(document.at(path), f"{_slashed(path)} {custom}")]


_BOUNDS = {
    "minimum": "at least",
    "exclusiveMinimum": "more than",
    "maximum": "at most",
    "exclusiveMaximum": "less than",
}


def _bound(document: Document, path: Path_, error: Any) -> list[Problem]:
    bound = _BOUNDS[error.validator]
    message = f"{_slashed(path)} must be {bound} {error.validator_value}, got {error.instance}"
    return [Problem(document.at(path), message)]


def _type(document: Document, path: Path_, error: Any) -> list[Problem]:
    if path and path[-1] == "id" and isinstance(error.instance, int | float):
        message = "id: expected a string, got a number; quote a JobId made only of digits, e.g. id: '0123'"
    else:
        expected, got = described_type(error.validator_value), described_type(json_type(error.instance))
        message = f"{path[-1] if path else 'manifest'}: expected {expected}, got {got}"
    return [Problem(document.at(path), message)]


def _min_length(document: Document, path: Path_, error: Any) -> list[Problem]:
    if error.validator_value != 1 or not path:
        return _generic(document, path, error)
    need = ": every job needs its JobId (TaskId for workflow tasks)" if path[-1] == "id" else ""
    return [Problem(document.at(path), f"{path[-1]} is empty{need}")]


def _generic(document: Document, path: Path_, error: Any) -> list[Problem]:
    return [Problem(document.at(path), f"{_slashed(path) or 'manifest'}: {error.message}")]


Handler = Callable[[Document, Path_, Any], list[Problem]]
# How each schema keyword's failure is worded; any other keyword gets jsonschema's own message.
_HANDLERS: dict[str, Handler] = {
    "additionalProperties": _unknown_keys,
    "required": _required,
    "enum": _enum,
    "const": _const,
    "pattern": _pattern,
    "anyOf": _any_of,
    "type": _type,
    "minLength": _min_length,
    **dict.fromkeys(_BOUNDS, _bound),
}


def schema_problems(document: Document) -> list[Problem]:
    """Every departure of the document from the manifest schema, worded for the person who wrote it."""
    problems = []
    for path, error in _schema_errors(document.value):
        handler = _HANDLERS.get(error.validator, _generic)
        if handler is _unknown_keys and not isinstance(error.instance, dict):
            handler = _generic
        problems.extend(handler(document, path, error))
    return problems
