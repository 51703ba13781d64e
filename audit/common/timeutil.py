"""Pure time helpers: the API's UTC timestamps and the manifest's durations."""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime

_UTC_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)([smhd])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def is_utc_shaped(value: object) -> bool:
    """True for a string of the form YYYY-MM-DDTHH:mm:ssZ, whether or not that day exists."""
    return isinstance(value, str) and _UTC_TIME.fullmatch(value) is not None


def is_real_utc(value: str) -> bool:
    """Whether a UTC-shaped string names a real instant, without building a datetime in the common
    case: a day up to the 28th exists in every month of every year from 1 (digits compare as their
    numbers do)."""
    if "01" <= value[5:7] <= "12" and "01" <= value[8:10] <= "28" and value[:4] != "0000":
        return value[11:13] <= "23" and value[14:16] <= "59" and value[17:19] <= "59"
    return parse_utc(value) is not None


def utc_before(end: object, start: object) -> bool:
    """Whether `end` is a real API time before the real API time `start`. Strings of the one fixed
    shape order as their instants do, so only a pair out of order is parsed (to be sure both exist)."""
    if not (is_utc_shaped(end) and is_utc_shaped(start)):
        return False
    assert isinstance(end, str) and isinstance(start, str)
    return end < start and is_real_utc(end) and is_real_utc(start)


def parse_utc(value: object) -> datetime | None:
    """A `YYYY-MM-DDTHH:mm:ssZ` string as an aware datetime; None for anything else."""
    if not isinstance(value, str) or not _UTC_TIME.fullmatch(value):
        return None
    try:
        return datetime.fromisoformat(value[:-1]).replace(tzinfo=UTC)  # the regex fixed the form exactly
    except ValueError:
        return None


def format_utc(moment: datetime) -> str:
    """The API's own time format (a UTC moment through isoformat: a third cheaper than strftime,
    and every answer's fetched_at is formatted)."""
    if moment.tzinfo is UTC:
        return moment.isoformat(timespec="seconds")[:19] + "Z"
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seconds_between(start: object, end: object) -> float | None:
    """`end - start` in seconds when both are valid API times, else None."""
    a, b = parse_utc(start), parse_utc(end)
    if a is None or b is None:
        return None
    return (b - a).total_seconds()


def parse_duration(text: object) -> float | None:
    """`90s`, `10m`, `2h`, `1d` (or a bare number of seconds) in seconds; None when malformed."""
    if isinstance(text, bool):
        return None
    if isinstance(text, int | float):
        return float(text) if text >= 0 and math.isfinite(text) else None
    if not isinstance(text, str):
        return None
    match = _DURATION.fullmatch(text)
    if not match:
        return None
    return float(match.group(1)) * _UNIT_SECONDS[match.group(2)]


def format_duration(seconds: float) -> str:
    """A compact human duration: `45s`, `12m30s`, `3h05m`; a negative one with its sign (`-5s`)."""
    if not math.isfinite(seconds):
        return str(seconds)
    if seconds < 0 and round(seconds):
        return f"-{format_duration(-seconds)}"
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        minutes, rest = divmod(seconds, 60)
        return f"{minutes}m{rest:02d}s" if rest else f"{minutes}m"
    hours, rest = divmod(seconds, 3600)
    return f"{hours}h{rest // 60:02d}m" if rest >= 60 else f"{hours}h"


def duration_ceiling(seconds: float) -> str:
    """The shortest readable bound at or above `seconds` (for pinning `max_duration`)."""
    seconds = max(1, math.ceil(seconds))
    if seconds < 120:
        return f"{seconds}s"
    if seconds < 7200:
        return f"{math.ceil(seconds / 60)}m"
    return f"{math.ceil(seconds / 3600)}h"
