"""Runs the vod-audit CLI in this process and records its own CPU time, peak RSS and wall time."""

from __future__ import annotations

import json
import resource
import sys
import time


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
                    "rss_mib": usage.ru_maxrss / 1024,
                },
                handle,
            )
    sys.exit(code)


if __name__ == "__main__":
    main()
