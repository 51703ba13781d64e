"""Old code against new, side by side: `python -m bench.ab REV [--jobs N] [--runs K]`.

Each round runs a first and a second nightly run of the same generated jobs against one emulator,
once with the code of REV (a git worktree) and once with this checkout, alternating which goes first;
it prints the medians of CPU, wall and peak RSS per variant and their ratio. This is how a change
that claims speed shows it (issue #30: medians of at least 3, measured on one machine, one run).
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.harness import ENV, emulator, jobs, run_args

ROOT = Path(__file__).resolve().parents[1]


def measured(code: Path, folder: Path, *args: str) -> dict[str, Any]:
    """A vod-audit command run with the package of `code` (its own folder is the first import path)."""
    report = folder / f"measure-{time.monotonic_ns()}.json"
    subprocess.run(
        [sys.executable, "-m", "bench.measure", str(report), *args],
        capture_output=True,
        text=True,
        env=ENV,
        cwd=code,
        timeout=3600,
    )
    return json.loads(report.read_text())  # type: ignore[no-any-return]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the git revision to compare with (e.g. HEAD~3)")
    parser.add_argument("--jobs", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="vod-audit-ab-") as temp:
        folder = Path(temp)
        old = folder / "old"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(old), options.old],
            cwd=ROOT,
            check=True,
            capture_output=True,
        )
        # Both sides measured by this checkout's bench/measure.py: the figure, not the code, is shared.
        shutil.copy(ROOT / "bench" / "measure.py", old / "bench" / "measure.py")
        try:
            figures = run(folder, {"old": old, "new": ROOT}, options.jobs, options.runs)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(old)], cwd=ROOT, capture_output=True)
    print(f"{options.jobs} jobs, {options.runs} rounds, medians (old = {options.old}, new = this checkout)")
    print("| phase | figure | old | new | new ÷ old |")
    print("|---|---|---|---|---|")
    for phase in ("first", "second"):
        for figure in ("cpu", "wall", "rss_mib"):
            a = statistics.median(r[figure] for r in figures["old"][phase])
            b = statistics.median(r[figure] for r in figures["new"][phase])
            print(f"| {phase} run | {figure} | {a:.2f} | {b:.2f} | {b / a:.3f} |")
    a, b = (statistics.median(r["state_bytes"] for r in figures[v]["first"]) for v in ("old", "new"))
    print(f"| first run | state bytes per job | {a:.0f} | {b:.0f} | {b / a:.3f} |")


def run(
    folder: Path, variants: dict[str, Path], count: int, rounds: int
) -> dict[str, dict[str, list[dict[str, Any]]]]:
    data, manifest, _ = jobs(count, 400 + count, folder)
    figures: dict[str, dict[str, list[dict[str, Any]]]] = {
        name: {"first": [], "second": []} for name in variants
    }
    with emulator(data, "--qps", "0") as url:
        for index in range(rounds):
            order = list(variants) if index % 2 == 0 else list(reversed(variants))
            for name in order:
                out, state = folder / f"{name}-{index}", folder / f"{name}-{index}.db"
                args = run_args(manifest, url, out, state, "--qps", "100000", "--concurrency", "16")
                figures[name]["first"].append(measured(variants[name], folder, *args))
                # The state's bytes per job once the first run has closed it (WAL folded in).
                size = sum(f.stat().st_size for f in folder.glob(f"{name}-{index}.db*"))
                figures[name]["first"][-1]["state_bytes"] = size / count
                figures[name]["second"].append(measured(variants[name], folder, *args))
    return figures


if __name__ == "__main__":
    main()
