"""Runs the vod-audit CLI in this process and records its own CPU time, peak RSS and wall time."""

from __future__ import annotations

import json
import resource
import sys
import time


def peak_rss_mib(usage: resource.struct_rusage) -> float:
    """This process's own peak resident memory. ru_maxrss is not: a child started by fork keeps its
    parent's figure across exec, so a benchmark holding 100,000 generated jobs inflated every
    measurement it started. Linux's VmHWM belongs to the memory of the program exec'd."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return usage.ru_maxrss / 1024


def main() -> None:
    report, args = sys.argv[1], sys.argv[2:]
    started = time.perf_counter()
    code = 0
    try:
        from audit.cli import main as cli

        sys.argv = ["vod-audit", *args]
        cli()
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else 1
    finally:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        with open(report, "w") as handle:
            json.dump(
                {
                    "exit": code,
                    "wall": time.perf_counter() - started,
                    "cpu": usage.ru_utime + usage.ru_stime,
                    "rss_mib": peak_rss_mib(usage),
                },
                handle,
            )
    sys.exit(code)


if __name__ == "__main__":
    main()
