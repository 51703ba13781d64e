"""A transcode job's `output:` expectation: what its stream must be tonight (GetPlayInfo, GetMezzanineInfo)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit.common.suggest import suggest
from audit.common.timeutil import format_duration, parse_duration

VALUE_KEYS = ("Status", "Format", "Definition", "StreamType")  # a stream's words: a value or a list
RANGE_KEYS = ("Height", "Width", "Bitrate")  # its numbers: exact, or {min, max}
WITHIN = "duration_within"  # of the source's duration: 2s, or 5%
KEYS = (*VALUE_KEYS, *RANGE_KEYS, WITHIN)
_SHARE = re.compile(r"([0-9]+(?:\.[0-9]+)?)%")


@dataclass(frozen=True, slots=True)
class OutputCheck:
    """What the job's stream must be: present always; then its words, numbers and duration."""

    values: tuple[tuple[str, tuple[str, ...]], ...] = ()
    ranges: tuple[tuple[str, float | None, float | None], ...] = ()
    within_seconds: float | None = None  # |stream - source| at most this
    within_share: float | None = None  # ... or this share of the source's duration

    @property
    def needs_source(self) -> bool:
        """Whether the source's duration (GetMezzanineInfo) is asked for."""
        return self.within_seconds is not None or self.within_share is not None

    def describe(self) -> str:
        words = [f"{k}: {' or '.join(v)}" for k, v in self.values]
        words += [f"{k}: {span_words(low, high)}" for k, low, high in self.ranges]
        if self.within_seconds is not None:
            words.append(f"duration within {format_duration(self.within_seconds)} of the source")
        if self.within_share is not None:
            words.append(f"duration within {self.within_share * 100:g}% of the source")
        return "output: " + (", ".join(words) or "a stream")


def span_words(low: float | None, high: float | None) -> str:
    """A range as the manifest says it and findings repeat it: 720, 480..720, ..2000 or 480.."""
    if low == high and low is not None:
        return f"{low:g}"
    return f"{'' if low is None else f'{low:g}'}..{'' if high is None else f'{high:g}'}"


def parse_output(value: Any) -> tuple[OutputCheck | None, list[str]]:
    """The check an `output:` value states, or the problems with it (each a sentence)."""
    if value is True or value is None:
        return OutputCheck(), []
    if not isinstance(value, Mapping):
        return None, ["output: is a mapping of what the stream must be (Status, Format, Definition, ...)"]
    problems: list[str] = []
    values, ranges = [], []
    within: dict[str, float] = {}
    for key, given in value.items():
        if key in VALUE_KEYS:
            listed = given if isinstance(given, list) else [given]
            if not listed or not all(isinstance(v, str) and v for v in listed):
                problems.append(f"output.{key}: a word or a list of words, got {given!r}")
                continue
            values.append((str(key), tuple(listed)))
        elif key in RANGE_KEYS:
            span = _range(given)
            if isinstance(given, Mapping) and span is None and _over(given):
                problems.append(f"output.{key}: min {given['min']:g} is over max {given['max']:g}")
                continue
            if span is None:
                problems.append(f"output.{key}: a number, or {{min: N, max: N}}, got {given!r}")
                continue
            ranges.append((str(key), *span))
        elif key == WITHIN:
            share = _SHARE.fullmatch(given) if isinstance(given, str) else None
            seconds = parse_duration(given)
            if share is not None:
                within["share"] = float(share.group(1)) / 100
            elif seconds is not None:
                within["seconds"] = seconds
            else:
                problems.append(
                    f"output.{WITHIN}: a duration such as 2s, or a share such as 5%, got {given!r}"
                )
        else:
            problems.append(
                f"output: unknown key {key!r} (known: {', '.join(KEYS)}){suggest(str(key), KEYS)}"
            )
    if problems:
        return None, problems
    return OutputCheck(tuple(values), tuple(ranges), within.get("seconds"), within.get("share")), []


def _over(given: Mapping[str, Any]) -> bool:
    low, high = given.get("min"), given.get("max")
    numbers = all(isinstance(b, int | float) and not isinstance(b, bool) for b in (low, high))
    return numbers and low > high  # type: ignore[operator]


def _range(given: Any) -> tuple[float | None, float | None] | None:
    if isinstance(given, bool):
        return None
    if isinstance(given, int | float):
        return float(given), float(given)
    if isinstance(given, Mapping) and given and set(given) <= {"min", "max"}:
        bounds = [given.get("min"), given.get("max")]
        if all(b is None or (isinstance(b, int | float) and not isinstance(b, bool)) for b in bounds):
            low, high = (None if b is None else float(b) for b in bounds)
            if low is None or high is None or low <= high:
                return low, high
    return None
