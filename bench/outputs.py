"""The output checks' cost (#40): a second night with `output:` beside the same night without, per media asked."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import yaml

from bench.harness import emulator, jobs, measured, run_args, stats

LIMITS_OFF = ("--qps", "0", "--play-qps", "0", "--mezzanine-qps", "0")
# GetJobDetail as fast as the emulator answers; GetPlayInfo and GetMezzanineInfo keep their documented
# limits (360/s, 100/s), which bound the night's wall time, not its CPU.
FAST = ("--qps", "100000", "--concurrency", "16")


def output_cost(folder: Path, count: int, runs: int = 3) -> dict[str, Any]:
    """CPU of a second night (every GetJobDetail answer reused) with output: checks and without, runs
    alternated, medians; the difference per media asked is the checks' own cost."""
    data, plain, _ = jobs(count, 700 + count, folder)
    checked = folder / f"outputs-{count}.yaml"
    document = yaml.safe_load(plain.read_text())
    document["defaults"] = {"transcode": {"output": {"Status": "Normal", "duration_within": "2s"}}}
    checked.write_text(yaml.safe_dump(document, sort_keys=False))
    state = folder / f"outputs-{count}.db"
    cpu: dict[str, list[float]] = {"with": [], "without": []}
    with emulator(data, *LIMITS_OFF) as url:
        measured(folder, *run_args(plain, url, folder / "outputs-first", state, *FAST))  # fills the state
        before = stats(url)["by_operation"].get("GetPlayInfo", {})
        for n in range(runs):
            for name, manifest in (("with", checked), ("without", plain)):
                run = measured(folder, *run_args(manifest, url, folder / f"outputs-{name}-{n}", state, *FAST))
                cpu[name].append(run["cpu"])
        played = stats(url)["by_operation"].get("GetPlayInfo", {})
        asked = sum(sum(v.values()) for v in played.values()) - sum(sum(v.values()) for v in before.values())
        results = json.loads((folder / "outputs-with-0" / "results.json").read_text())
    media = asked // runs
    extra = statistics.median(cpu["with"]) - statistics.median(cpu["without"])
    return {
        "jobs": count,
        "media": media,
        "drift": sum(1 for r in results["results"] for f in r["findings"] if f["kind"] == "output"),
        "with": statistics.median(cpu["with"]),
        "without": statistics.median(cpu["without"]),
        "per_media_ms": 1000 * extra / media if media else 0.0,
    }


def lines(cost: dict[str, Any] | None) -> list[str]:
    if not cost:
        return []
    return [
        "",
        f"### Output checks ({cost['jobs']:,} jobs, {cost['media']:,} media asked, limits off)",
        "",
        f"A second night with `output:` on every transcode job (GetPlayInfo and GetMezzanineInfo once per "
        f"media of a successful one) used {cost['with']:.2f} CPU-s, the same night without {cost['without']:.2f}: "
        f"**{cost['per_media_ms']:.2f} CPU-ms per media** checked (medians of alternated runs; "
        f"{cost['drift']} output findings, the emulator's streams being whole).",
    ]
