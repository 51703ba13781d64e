"""The judgement of a successful transcode job's stream tonight: GetPlayInfo's list against `output:` (pure).

What the answers mean (GetPlayInfo and GetMezzanineInfo references): a stream's `JobId` is "the ID of
the transcoding job that produced the stream", `Duration` its seconds, `Bitrate` in Kbit/s; the
source's `Duration` is the mezzanine file's. `InvalidVideo.NotFound` (404): the media is gone;
`InvalidVideo.NoneStream` (404): it has no stream to play.
https://www.alibabacloud.com/help/en/vod/developer-reference/api-vod-2017-03-21-getplayinfo
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from audit.common.findings import Finding, FindingKind
from audit.common.timeutil import format_duration
from audit.manifest.outputs import OutputCheck, span_words

GONE = ("InvalidVideo.NotFound", "InvalidVideo.NoneStream")  # answers that say: no stream exists


@dataclass(frozen=True, slots=True)
class Played:
    """What GetPlayInfo said of a media: its streams, or that it has none (`gone`), or that it could
    not be asked or read (`failed`: the output is then not checked, and the job says why)."""

    streams: tuple[Mapping[str, Any], ...] = ()
    gone: str | None = None
    failed: str | None = None


def read_play_info(body: Any, media_id: str) -> Played:
    """GetPlayInfo's streams from its answer; `failed` for one that is not about this media or has
    no list where the reference has one (never judged as 'no stream', never as 'fine')."""
    if not isinstance(body, dict):
        return Played(failed="GetPlayInfo's answer is not a JSON object")
    base = body.get("VideoBase")
    named = base.get("VideoId") if isinstance(base, dict) else None
    if isinstance(named, str) and named != media_id:
        return Played(failed=f"GetPlayInfo's answer is about media {named!r}, not {media_id!r}")
    listed = body.get("PlayInfoList")
    streams = listed.get("PlayInfo") if isinstance(listed, dict) else None
    if not isinstance(streams, list):
        return Played(failed="GetPlayInfo's answer holds no PlayInfoList.PlayInfo list")
    return Played(tuple(s for s in streams if isinstance(s, dict)))


def read_source_seconds(body: Any, media_id: str) -> float | str:
    """The source file's duration from GetMezzanineInfo's answer, or why it cannot be read."""
    mezzanine = body.get("Mezzanine") if isinstance(body, dict) else None
    if not isinstance(mezzanine, dict):
        return "GetMezzanineInfo's answer holds no Mezzanine object"
    named = mezzanine.get("VideoId")
    if isinstance(named, str) and named != media_id:
        return f"GetMezzanineInfo's answer is about media {named!r}, not {media_id!r}"
    seconds = number(mezzanine.get("Duration"))
    return (
        seconds
        if seconds is not None
        else f"the source's Duration {mezzanine.get('Duration')!r} is no number"
    )


def number(value: Any) -> float | None:
    """A number the API gives as a number or as a string of one; None for anything else."""
    if isinstance(value, bool):
        return None
    try:
        found = float(value) if isinstance(value, int | float | str) else None
    except ValueError:
        return None
    return found if found is not None and math.isfinite(found) else None


def judge_output(
    job_id: str, media_id: str, check: OutputCheck, played: Played, source: float | str | None
) -> tuple[Finding, ...]:
    """The findings of one job's output: none when one of its streams meets every part of the check."""
    if played.failed is not None:
        return (_finding("error", "output", "a GetPlayInfo answer to check", "none", played.failed),)
    mine = [s for s in played.streams if s.get("JobId") == job_id]
    if not mine:
        why = f"GetPlayInfo says {played.gone}" if played.gone else "GetPlayInfo lists none of its streams"
        return (
            _finding(
                "output", "output.exists", "a stream of this job", "none",
                f"media {media_id} has no stream of this job tonight ({why}): deleted, or never stored?",
            ),
        )  # fmt: skip
    if check.needs_source and isinstance(source, str):
        return (_finding("error", "output", "the source's duration", "unknown", source),)
    judged = [_stream_findings(stream, check, source) for stream in mine]
    best = min(judged, key=len)  # the stream that comes closest (the first of equals)
    return tuple(best)


def _stream_findings(
    stream: Mapping[str, Any], check: OutputCheck, source: float | str | None
) -> list[Finding]:
    found = []
    for key, allowed in check.values:
        actual = stream.get(key)
        if not isinstance(actual, str) or actual.lower() not in {a.lower() for a in allowed}:
            found.append(_mismatch(key, " or ".join(allowed), actual))
    for key, low, high in check.ranges:
        value = number(stream.get(key))
        if value is None or (low is not None and value < low) or (high is not None and value > high):
            found.append(_mismatch(key, span_words(low, high), stream.get(key)))
    if check.needs_source and isinstance(source, float):
        tolerance = (
            check.within_seconds if check.within_seconds is not None else (check.within_share or 0) * source
        )
        seconds = number(stream.get("Duration"))
        if seconds is None or abs(seconds - source) > tolerance:
            said = "unreadable" if seconds is None else format_duration(seconds)
            found.append(
                _finding(
                    "output", "output.Duration", f"the source's {format_duration(source)} ± {format_duration(tolerance)}",
                    repr(stream.get("Duration")),
                    f"the stream lasts {said}, the source {format_duration(source)} (allowed ± {format_duration(tolerance)})",
                )
            )  # fmt: skip
    return found


def _mismatch(key: str, expected: str, actual: Any) -> Finding:
    return _finding(
        "output",
        f"output.{key}",
        expected,
        repr(actual),
        f"the stream's {key} is {actual!r}, expected {expected}",
    )


def _finding(kind: FindingKind, field: str, expected: str, actual: str, message: str) -> Finding:
    return Finding(kind, field, expected, actual, message)
