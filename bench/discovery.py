"""Discovery's benchmarks: media and jobs found per second at the documented limits, and plan's own cost."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from audit.common.timeutil import format_utc
from bench.harness import emulator, measured, stats

LIMITS = {"SearchMedia": 50.0, "ListJobInfo": 15.0}  # per account (API QPS limits page)


def _data(folder: Path, media: int) -> Path:
    """`media` media of a transcode and a snapshot job each, created in the last hour."""
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    bodies = []
    for n in range(media):
        times = {
            "CreateTime": format_utc(created + timedelta(seconds=n % 3000)),
            "CompleteTime": format_utc(created + timedelta(seconds=n % 3000 + 30)),
        }
        common = {"UserId": 139109000000001, "VideoId": f"media{n:08d}", **times}
        bodies.append(
            {
                "JobType": "transcode",
                "TranscodeJobDetail": {"JobId": f"t{n:08d}", "Status": "TranscodeSuccess", **common},
            }
        )
        bodies.append(
            {
                "JobType": "snapshot",
                "SnapshotJobDetail": {"JobId": f"s{n:08d}", "Status": "Success", **common},
            }
        )
    data = folder / f"discovery-{media}.json"
    data.write_text(json.dumps({"jobs": bodies}))
    return data


def discovery(folder: Path, media: int) -> dict[str, Any]:
    """`plan --discover` against an emulator at the documented limits (100 ms latency): the rate each
    operation was served at, against its limit, and media and jobs found per second."""
    data = _data(folder, media)
    manifest = folder / f"discovery-{media}.yaml"
    source = {"media": {"since": "24h", "types": ["transcode", "snapshot"], "media_types": ["video"]}}
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs_from": [source]}))
    with emulator(data, "--qps", "15", "--latency-ms", "100") as url:
        run = measured(
            folder, "plan", str(manifest), "--endpoint", url, "--discover", "--state", str(folder / "d.db")
        )
        counted = stats(url)
    served = {
        op: sum(a.get("served", 0) for a in accounts.values())
        for op, accounts in counted["by_operation"].items()
    }
    throttled = sum(
        a.get("throttled", 0) for accounts in counted["by_operation"].values() for a in accounts.values()
    )
    spans = counted["spans"]
    listing = (served["ListJobInfo"] - 1) / (spans["ListJobInfo"][1] - spans["ListJobInfo"][0])
    return {
        "media": media,
        "exit": run["exit"],
        "wall": run["wall"],
        "served": served,
        "throttled": throttled,
        "list_rate": listing,
        "list_ratio": listing / LIMITS["ListJobInfo"],
        "media_per_s": media / run["wall"],
        "jobs_per_s": 2 * media / run["wall"],
    }


def plan_cost(folder: Path, manifest: Path, url: str, state: Path) -> dict[str, Any]:
    """`plan` of a large manifest with its state (no call): CPU, wall and peak memory."""
    return measured(folder, "plan", str(manifest), "--endpoint", url, "--state", str(state))


def lines(found: dict[str, Any], plan: dict[str, Any] | None, jobs: int) -> list[str]:
    """The report's section on discovery and plan, and its target rows (as (row, met))."""
    return [
        "## 7. Discovery and plan",
        "",
        f"`vod-audit plan --discover` of a window of {found['media']:,} media (a transcode and a snapshot job each) against an "
        "emulator at the documented limits (SearchMedia 50/s, ListJobInfo 15/s per account; 100 ms latency): "
        f"{found['served'].get('SearchMedia', 0)} SearchMedia and {found['served'].get('ListJobInfo', 0)} ListJobInfo "
        f"calls, {found['throttled']} throttled, in {found['wall']:.1f} s: {found['media_per_s']:.1f} media and "
        f"{found['jobs_per_s']:.1f} jobs found per second, {found['media_per_s'] / 7.5:.3f} of the 7.5 media/s two "
        f"ListJobInfo calls per media allow (start-up and the search included); ListJobInfo served at "
        f"{found['list_rate']:.2f}/s, {found['list_ratio']:.3f} of its 15/s.",
        "",
        *(
            [
                f"`vod-audit plan` of the {jobs:,}-job manifest with its state (no call): {plan['wall']:.1f} s wall, "
                f"{plan['cpu']:.1f} CPU-s, peak {plan['rss_mib']:.0f} MiB.",
                "",
            ]
            if plan
            else []
        ),
    ]


def targets(found: dict[str, Any], plan: dict[str, Any] | None, jobs: int) -> list[tuple[str, bool]]:
    rows = [
        (
            f"discovery: ListJobInfo ≥ 0.97 × 15/s, zero throttled | {found['list_ratio']:.3f}, {found['throttled']} throttled",
            found["list_ratio"] >= 0.97 and found["throttled"] == 0,
        )
    ]
    if plan:
        rows.append((f"{jobs:,} jobs: plan ≤ 10 s | {plan['wall']:.1f} s", plan["wall"] <= 10))
    return rows
