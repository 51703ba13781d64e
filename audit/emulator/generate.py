"""Deterministic synthetic jobs of all four types, with realistic statuses, durations and configs."""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.timeutil import format_utc

DEFINITIONS = {"LD": 25, "SD": 35, "HD": 60, "FHD": 110, "2K": 220, "4K": 420}  # median seconds
TEMPLATES = [f"{n:08x}e0000000000000000bf0b812" for n in (0xDBFAAEC9, 0x1A2B3C4D, 0x5E6F7081)]
AI_TYPES = {"AIVideoCensor": 95, "AIVideoTag": 60, "AIVideoCover": 40}
AUDIT_ITEMS = ["porn", "terrorism", "ad", "live", "logo", "audio"]
TYPE_WEIGHTS = {"transcode": 0.5, "snapshot": 0.2, "ai": 0.15, "workflow": 0.15}


def _hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def _lognormal_seconds(rng: random.Random, median: float, sigma: float = 0.45) -> int:
    return max(1, round(math.exp(rng.gauss(math.log(median), sigma))))


def _outcome(rng: random.Random) -> str:
    roll = rng.random()
    if roll < 0.86:
        return "success"
    if roll < 0.91:
        return "failed"
    if roll < 0.94:
        return "cancelled"
    return "running"


STATUS = {
    "transcode": {
        "success": "TranscodeSuccess",
        "failed": "TranscodeFail",
        "cancelled": "TranscodeCancelled",
        "running": "Transcoding",
    },
    "snapshot": {"success": "Success", "failed": "Fail", "cancelled": "Fail", "running": "Processing"},
    "ai": {"success": "success", "failed": "fail", "cancelled": "fail", "running": "analysing"},
    "workflow": {"success": "Succeed", "failed": "Failed", "cancelled": "Canceled", "running": "Processing"},
}


def _times(rng: random.Random, anchor: datetime, outcome: str, median: float) -> tuple[str, str | None]:
    if outcome == "running":
        created = anchor - timedelta(seconds=rng.randint(5, 3600))
        return format_utc(created), None
    created = anchor - timedelta(seconds=rng.randint(3600, 30 * 86400))
    seconds = _lognormal_seconds(rng, median)
    if outcome != "success":
        seconds = max(1, seconds // rng.randint(2, 6))
    return format_utc(created), format_utc(created + timedelta(seconds=seconds))


def _transcode(rng: random.Random, anchor: datetime, user: int) -> dict[str, Any]:
    definition = rng.choice(list(DEFINITIONS))
    outcome = _outcome(rng)
    created, completed = _times(rng, anchor, outcome, DEFINITIONS[definition])
    detail = {
        "JobId": _hex(rng),
        "UserId": user,
        "VideoId": _hex(rng),
        "Status": STATUS["transcode"][outcome],
        "TemplateId": rng.choice(TEMPLATES),
        "Definition": definition,
        "CreateTime": created,
    }
    if completed:
        detail["CompleteTime"] = completed
    return {"JobType": "transcode", "TranscodeJobDetail": detail}


def _snapshot(rng: random.Random, anchor: datetime, user: int) -> dict[str, Any]:
    outcome = _outcome(rng)
    created, completed = _times(rng, anchor, outcome, 9)
    normal = {
        "inl": rng.choice([0, 5, 10]),
        "num": rng.choice([1, 8, 16, 32]),
        "tm": rng.choice([0, 5]),
        "wd": rng.choice(["352", "640", "1280"]),
        "ft": "normal",
        "hg": rng.choice(["640", "360", "720"]),
    }
    sprite = {
        "pad": "0",
        "lines": str(rng.choice([5, 10])),
        "mgin": "0",
        "cols": str(rng.choice([5, 10])),
        "ikcp": rng.choice(["false", "true"]),
        "hg": "68",
    }
    detail = {
        "JobId": _hex(rng),
        "UserId": user,
        "VideoId": _hex(rng),
        "Status": STATUS["snapshot"][outcome],
        "Trigger": rng.choice(["Auto", "Manual"]),
        "NormalConfig": json.dumps(normal, separators=(",", ":")),
        "SpriteConfig": json.dumps(sprite, separators=(",", ":")),
        "CreateTime": created,
    }
    if completed:
        detail["CompleteTime"] = completed
    return {"JobType": "snapshot", "SnapshotJobDetail": detail}


def _ai(rng: random.Random, anchor: datetime, user: int) -> dict[str, Any]:
    kind = rng.choices(list(AI_TYPES), weights=[6, 2, 2])[0]
    outcome = _outcome(rng)
    created, completed = _times(rng, anchor, outcome, AI_TYPES[kind])
    config = {
        "AuditRange": ["video", "image-cover", "text-title"],
        "AuditContent": ["screen"],
        "AuditItem": sorted(rng.sample(AUDIT_ITEMS, rng.randint(2, 4))),
        "AuditAutoBlock": rng.choice(["yes", "no"]),
    }
    detail = {
        "JobId": _hex(rng),
        "UserId": user,
        "MediaId": _hex(rng),
        "JobType": kind,
        "Status": STATUS["ai"][outcome],
        "Trigger": rng.choice(["Auto", "Manual"]),
        "TemplateConfig": json.dumps(config, separators=(",", ":")),
        "CreateTime": created,
    }
    if completed:
        detail["CompleteTime"] = completed
    return {"JobType": "ai", "AIJobDetail": detail}


def _workflow(rng: random.Random, anchor: datetime, user: int) -> dict[str, Any]:
    outcome = _outcome(rng)
    created, finished = _times(rng, anchor, outcome, 300)
    media = _hex(rng)
    detail: dict[str, Any] = {
        "TaskId": _hex(rng),
        "Status": STATUS["workflow"][outcome],
        "CreateTime": created,
        "TaskInput": json.dumps({"Type": "Media", "Media": media}, separators=(",", ":")),
        "UserData": json.dumps({"Extend": {"user": str(user)}}, separators=(",", ":")),
        "ActivityResults": json.dumps(
            {"transcode": {"Status": "Success" if outcome == "success" else "Fail"}}, separators=(",", ":")
        ),
        "Workflow": {
            "WorkflowId": "b8d0f9e7a1c24e2c9a3f5d6b7c8e9f01",
            "Name": "transcode-and-censor",
            "Type": "Common",
            "Status": "Active",
            "AppId": "app-1000000",
            "CreateTime": "2024-10-01T02:00:00Z",
            "ModifiedTime": "2024-10-02T02:00:00Z",
        },
    }
    if finished:
        detail["FinishTime"] = finished
    return {"JobType": "workflow", "WorkflowTaskDetail": detail}


BUILDERS = {"transcode": _transcode, "snapshot": _snapshot, "ai": _ai, "workflow": _workflow}


def generate(count: int, seed: int, anchor: datetime | None = None) -> list[dict[str, Any]]:
    """`count` bodies (without RequestId); the same seed and anchor give the same jobs."""
    rng = random.Random(seed)
    anchor = anchor or datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    user = 139109000000000 + rng.randint(0, 99999)
    kinds = rng.choices(list(TYPE_WEIGHTS), weights=list(TYPE_WEIGHTS.values()), k=count)
    return [BUILDERS[kind](rng, anchor, user) for kind in kinds]
