"""GetPlayInfo and GetMezzanineInfo answered from the emulated media: the streams success produced.

By default a media's source file lasts a time derived from its id, and each of its successful
transcode jobs has one Normal stream of that duration, of the job's Definition; a data file's media
entry may give its own `Duration` and `PlayInfos` (a stream deleted or cut short, for tests).
Fields and errors as the references give them:
https://www.alibabacloud.com/help/en/vod/developer-reference/api-vod-2017-03-21-getplayinfo
https://www.alibabacloud.com/help/en/vod/developer-reference/api-vod-2017-03-21-getmezzanineinfo
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from audit.common.jobtypes import job_type
from audit.common.timeutil import format_utc
from audit.emulator.media import Media

# Height, width and bitrate (Kbps) of a stream by its Definition, as a typical template makes them.
SHAPES = {
    "FD": (360, 640, 400.0), "LD": (480, 854, 800.0), "SD": (720, 1280, 1500.0), "HD": (1080, 1920, 3000.0),
    "OD": (1080, 1920, 4000.0), "2K": (1440, 2560, 6000.0), "4K": (2160, 3840, 12000.0),
}  # fmt: skip


class PlaybackError(ValueError):
    """An answer the service gives as an error: (HTTP status, code, message)."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code = status, code


def source_seconds(media: Media) -> float:
    """The source file's duration: the entry's, else 30 to 600 s derived from the media id."""
    if media.duration is not None:
        return media.duration
    return 30.0 + int(hashlib.sha256(media.media_id.encode()).hexdigest()[:6], 16) % 5700 / 10


def streams(media: Media) -> list[dict[str, Any]]:
    """The media's streams: its own PlayInfos, else one per successful transcode job."""
    if media.play_infos is not None:
        return [dict(s) for s in media.play_infos]
    made = []
    for job in media.jobs:
        detail = job_type("transcode").detail(job.body) if job.job_type == "transcode" else None
        if detail is None or detail.get("Status") != "TranscodeSuccess":
            continue
        definition = str(detail.get("Definition") or "SD")
        height, width, bitrate = SHAPES.get(definition, SHAPES["SD"])
        seconds = source_seconds(media)
        done = str(detail.get("CompleteTime") or format_utc(media.creation_time))
        made.append(
            {
                "JobId": job.job_id, "Status": "Normal", "StreamType": "video", "Format": "m3u8",
                "Definition": definition, "Duration": f"{seconds:.3f}", "Height": height, "Width": width,
                "Bitrate": f"{bitrate:.4f}", "Fps": "25", "Size": int(seconds * bitrate * 125),
                "Encrypt": 0, "PlayURL": f"https://emulator.invalid/{media.media_id}/{job.job_id}.m3u8",
                "CreationTime": done, "ModificationTime": done, "Specification": f"H264.{definition}",
            }
        )  # fmt: skip
    return made


def play_info(media: Media | None, params: Mapping[str, str], request_id: str) -> dict[str, Any]:
    """GetPlayInfo's body, filtered by Formats, Definition and StreamType as asked."""
    if media is None:
        raise PlaybackError(404, "InvalidVideo.NotFound", "The video does not exist.")
    if media.status != "Normal":
        raise PlaybackError(
            403,
            "Forbidden.IllegalStatus",
            f"Status of the video is illegal. Current Status is {media.status}.",
        )
    wanted = {name: _listed(params.get(key)) for name, key in
              (("Format", "Formats"), ("Definition", "Definition"), ("StreamType", "StreamType"))}  # fmt: skip
    found = [
        s for s in streams(media) if all(not w or str(s.get(n, "")).lower() in w for n, w in wanted.items())
    ]
    if not found:
        asked = ", ".join(f"{key}: {params.get(key, '')}" for key in ("Formats", "Definition", "StreamType"))
        raise PlaybackError(
            404,
            "InvalidVideo.NoneStream",
            f"The video has no stream to play for the request parameter '{asked}'.",
        )
    base = {
        "VideoId": media.media_id, "Title": media.title or f"media {media.media_id}", "Status": media.status,
        "MediaType": media.media_type, "CreationTime": format_utc(media.creation_time),
        "Duration": f"{source_seconds(media):.3f}", "OutputType": params.get("OutputType", "cdn"),
    }  # fmt: skip
    return {"RequestId": request_id, "VideoBase": base, "PlayInfoList": {"PlayInfo": found}}


def mezzanine_info(media: Media | None, params: Mapping[str, str], request_id: str) -> dict[str, Any]:
    """GetMezzanineInfo's body: the source file's basic information (AdditionType adds nothing here)."""
    if media is None:
        raise PlaybackError(404, "InvalidVideo.NotFound", "The video does not exist.")
    seconds = source_seconds(media)
    mezzanine = {
        "VideoId": media.media_id, "Status": "Normal", "Duration": f"{seconds:.3f}",
        "FileName": f"{media.media_id}.mp4", "Height": 1080, "Width": 1920, "Bitrate": "5000.0",
        "Fps": "25", "Size": int(seconds * 625_000), "CreationTime": format_utc(media.creation_time),
        "FileURL": f"https://emulator.invalid/{media.media_id}/source.mp4",
        "OutputType": params.get("OutputType", "cdn"),
    }  # fmt: skip
    return {"RequestId": request_id, "Mezzanine": mezzanine}


def _listed(value: str | None) -> set[str]:
    return {v.strip().lower() for v in (value or "").split(",") if v.strip()}
