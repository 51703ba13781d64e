"""Deterministic synthetic jobs of all four types, with realistic statuses, durations and configs.

Shapes follow their sources: identifiers as the GetJobDetail reference and the official SDK models'
examples show them (32 hex digits; media ids ending in 0102; snapshot job ids in lowercase letters and
digits; workflow ids prefixed vw_), ActivityResults as the SDK model's example and the VOD event
reference "Workflow task completion" describe it (keyed by node, each with ActivityId,
ActivityInstanceId, StartTime, EndTime but on the start node, Result as a JSON string, Status
Succeed or Failed), and AI template configurations with audit items only for censor jobs, the one AI
job type whose configuration the reference shows.
"""

from __future__ import annotations

import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.common.timeutil import format_utc, parse_utc

DEFINITIONS = {"LD": 25, "SD": 35, "HD": 60, "FHD": 110, "2K": 220, "4K": 420}  # median seconds
TEMPLATES = [f"{n:08x}e0000000000000000bf0b812" for n in (0xDBFAAEC9, 0x1A2B3C4D, 0x5E6F7081)]
AI_TYPES = {"AIVideoCensor": 95, "AIVideoTag": 60, "AIVideoCover": 40}
CENSOR = "AIVideoCensor"
# A transcode-and-censor workflow's nodes, as (node name, ActivityId); the first is the start node.
WORKFLOW_NODES = (("Act_Start", "start"), ("VodTranscode_1", "VodTranscode"), ("VodAIAudit_1", "VodAIAudit"))
AUDIT_ITEMS = ["porn", "terrorism", "ad", "live", "logo", "audio"]
TYPE_WEIGHTS = {"transcode": 0.5, "snapshot": 0.2, "ai": 0.15, "workflow": 0.15}


def _hex(rng: random.Random, n: int = 32) -> str:
    return f"{rng.getrandbits(n * 4):0{n}x}"


def _media_id(rng: random.Random) -> str:
    return _hex(rng, 28) + "0102"


def _base36(rng: random.Random, n: int = 32) -> str:
    return "".join(rng.choice("0123456789abcdefghijklmnopqrstuvwxyz") for _ in range(n))


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
        "VideoId": _media_id(rng),
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
        "JobId": _base36(rng),
        "UserId": user,
        "VideoId": _media_id(rng),
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
    config: dict[str, Any] = {}
    if kind == CENSOR:
        config = {
            "AuditRange": ["video", "image-cover", "text-title"],
            "AuditContent": ["screen"],
            "AuditItem": sorted(rng.sample(AUDIT_ITEMS, rng.randint(2, 4))),
            "AuditAutoBlock": rng.choice(["yes", "no"]),
        }
    detail = {
        "JobId": _hex(rng),
        "UserId": user,
        "MediaId": _media_id(rng),
        "JobType": kind,
        "Status": STATUS["ai"][outcome],
        "Trigger": rng.choice(["Auto", "Manual"]),
        "TemplateConfig": json.dumps(config, separators=(",", ":")),
        "CreateTime": created,
    }
    if completed:
        detail["CompleteTime"] = completed
    return {"JobType": "ai", "AIJobDetail": detail}


def _activity_results(
    rng: random.Random, created: str, finished: str | None, media: str, failed: bool
) -> dict[str, Any]:
    """Each node that ran; the start node has no EndTime, and the last one failed when the task did."""
    start = parse_utc(created) or datetime.now(UTC)
    end = parse_utc(finished) if finished else None
    ran = WORKFLOW_NODES if end else WORKFLOW_NODES[:1]  # a running task has only passed its start
    nodes: dict[str, Any] = {}
    for index, (name, activity) in enumerate(ran):
        began = min(start + timedelta(seconds=index), end or start)
        node: dict[str, Any] = {
            "ActivityId": activity,
            "ActivityInstanceId": _hex(rng),
            "StartTime": format_utc(began),
        }
        if index == 0:
            result = {"Type": "Media", "Media": media}
        else:
            last = index == len(ran) - 1
            node["EndTime"] = format_utc(
                end if last and end else min(began + timedelta(seconds=1), end or began)
            )
            result = {"JobType": activity, "MediaId": media}
        node["Result"] = json.dumps(result, separators=(",", ":"))
        node["Status"] = "Failed" if failed and index == len(ran) - 1 and index else "Succeed"
        nodes[name] = node
    return nodes


def _workflow(rng: random.Random, anchor: datetime, user: int) -> dict[str, Any]:
    outcome = _outcome(rng)
    created, finished = _times(rng, anchor, outcome, 300)
    media = _media_id(rng)
    results = _activity_results(rng, created, finished, media, outcome in ("failed", "cancelled"))
    detail: dict[str, Any] = {
        "TaskId": _hex(rng),
        "Status": STATUS["workflow"][outcome],
        "CreateTime": created,
        "TaskInput": json.dumps(
            {"Type": "Media", "Media": media, "Title": f"{media[:8]}.mp4"}, separators=(",", ":")
        ),
        "UserData": json.dumps({"Extend": {"user": str(user)}}, separators=(",", ":")),
        "ActivityResults": json.dumps(results, separators=(",", ":")),
        "Workflow": {
            "WorkflowId": "vw_" + _hex(rng),
            "Name": "All_Activity_New_1_app-1000000",
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
