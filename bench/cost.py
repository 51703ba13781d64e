"""Local cost and how it grows: a first run, its reports, a second night and a night with no call, beside the SDK loop."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from bench import discovery
from bench.harness import emulator, jobs, measured, run_args, sdk_loop, stats
from bench.page import page_figures


def local_cost(folder: Path, count: int, *, compare_sdk: bool) -> dict[str, Any]:
    data, manifest, keys = jobs(count, 400 + count, folder)
    out, state = folder / f"cost-{count}", folder / f"cost-{count}.db"
    with emulator(data, "--qps", "0") as url:
        args = run_args(manifest, url, out, state, "--qps", "100000", "--concurrency", "16")
        fetch = measured(folder, *args)
        calls_first = stats(url)["total"]
        state_bytes = sum(f.stat().st_size for f in folder.glob(f"cost-{count}.db*"))
        plan = discovery.plan_cost(folder, manifest, url, state)
        outcomes = [r["outcome"] for r in json.loads((out / "results.json").read_text())["results"]]
        # Only answers of finished, valid jobs are final; the rest must be asked again.
        not_final = sum(1 for outcome in outcomes if outcome not in ("ok", "drift"))
        reports = measured(
            folder, "report", str(out / "results.json"), "--out", str(folder / f"reports-{count}")
        )
        page = page_figures(folder / f"reports-{count}" / "report.html")
        second = measured(folder, *args)
        calls_second = stats(url)["total"] - calls_first
        quiet = quiet_night(folder, out / "results.json", url, state)
        # The SDK's cost per call does not depend on the manifest's size: measured once, at 10,000 calls at most.
        sdk = sdk_loop(folder, url, keys[:10_000], 3600) if compare_sdk else None
    return {
        "jobs": count,
        "fetch": fetch,
        "reports": reports,
        "page": page,
        "second": second,
        "calls_first": calls_first,
        "calls_second": calls_second,
        "not_final": not_final,
        "state_bytes": state_bytes,
        "quiet": quiet,
        "sdk": sdk,
        "plan": plan,
    }


def quiet_night(folder: Path, results: Path, url: str, state: Path) -> dict[str, Any]:
    """A night on which nothing needs asking: the jobs the first run answered for good, with its state,
    measured on the manifest's second night (its first builds the manifest cache, as any manifest's
    first night does)."""
    done = json.loads(results.read_text())["results"]
    final = [{"id": r["job_id"], "type": r["job_type"]} for r in done if r["outcome"] in ("ok", "drift")]
    manifest = results.parent.with_name(f"{results.parent.name}-quiet.yaml")
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": final}, sort_keys=False))
    measured(folder, *run_args(manifest, url, folder / f"{manifest.stem}-first", state))
    before = stats(url)["total"]
    run = measured(folder, *run_args(manifest, url, folder / f"{manifest.stem}-out", state))
    return {**run, "jobs": len(final), "calls": stats(url)["total"] - before}


def per_job(sized: dict[str, Any], phase: str = "fetch") -> float:
    """CPU-ms per job of a phase."""
    return 1000 * float(sized[phase]["cpu"]) / int(sized["jobs"])


def sdk_per_call(small: dict[str, Any]) -> float:
    sdk = small["sdk"]
    return 1000 * float(sdk["cpu"]) / int(sdk["calls"])


def lines(small: dict[str, Any], large: dict[str, Any]) -> list[str]:
    """Issue #43's figures: each size's CPU per job against the SDK loop's per call, the night with
    no call, the state's bytes per job (absent from runs measured before they were)."""
    sdk = sdk_per_call(small)
    found = [
        "",
        "| jobs | CPU-ms per job, first run | ÷ SDK loop per call | state bytes per job | a night with no call (its manifest cached): jobs, calls, CPU-s | ÷ SDK loop for as many calls |",
        "|---:|---:|---:|---:|---|---:|",
    ]
    for sized in (small, large):
        quiet = sized.get("quiet")
        night = (
            f"{quiet['jobs']:,}, {quiet['calls']}, {quiet['cpu']:.2f} | {quiet['cpu'] / (sdk * quiet['jobs'] / 1000):.3f}×"
            if quiet
            else "— | —"
        )
        state = f"{sized['state_bytes'] / sized['jobs']:,.0f}" if "state_bytes" in sized else "—"
        found.append(
            f"| {sized['jobs']:,} | {per_job(sized):.3f} | {per_job(sized) / sdk:.2f}× | {state} | {night} |"
        )
    return found


def targets(small: dict[str, Any], large: dict[str, Any]) -> list[tuple[str, bool]]:
    sdk = sdk_per_call(small)
    ratio, growth = per_job(small) / sdk, per_job(large) / per_job(small)
    rows = [
        (f"CPU per job ÷ the SDK loop's CPU per call ≤ 0.8× ({small['jobs']:,} jobs) | {ratio:.2f}× "
         f"({per_job(small):.3f} ÷ {sdk:.3f} CPU-ms)", ratio <= 0.8),
        (f"the same at {large['jobs']:,} jobs ÷ at {small['jobs']:,} ≤ 1.03 | {growth:.3f}", growth <= 1.03),
    ]  # fmt: skip
    quiet = small.get("quiet")
    if quiet:
        night = quiet["cpu"] / (sdk * quiet["jobs"] / 1000)
        rows.append(
            (
                f"a night with no call, CPU ÷ the SDK loop's for as many calls ≤ 0.10× | {night:.3f}×",
                night <= 0.10,
            )
        )
    if "state_bytes" in large:
        per = large["state_bytes"] / large["jobs"]
        rows.append((f"state on disk per job, benchmark answers, ≤ 1 KB | {per:,.0f} bytes", per <= 1024))
    return rows
