"""The state's cost on PostgreSQL beside SQLite (#39): first run and second night, ours and the server's CPU."""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

from bench.harness import emulator, jobs, measured, run_args
from tests.pgserver import Server, binaries
from tests.pgserver import start as start_server

TICKS = os.sysconf("SC_CLK_TCK")


def server_cpu(server: Server) -> float:
    """CPU seconds of the server so far: the postmaster's own and its reaped children's (each
    session's backend ends with its session and is counted here), once no session is left."""
    postmaster = int((server.folder / "data" / "postmaster.pid").read_text().split()[0])
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(
        _stat(pid)[1] == postmaster and b"postgres:" in _cmdline(pid) and _backend(pid) for pid in _pids()
    ):
        time.sleep(0.05)  # a session that just ended may still be leaving: wait for its backend to go
    fields = _stat(postmaster)[0]
    return sum(int(fields[i]) for i in (11, 12, 13, 14)) / TICKS


def _pids() -> list[int]:
    return [int(p) for p in os.listdir("/proc") if p.isdigit()]


def _stat(pid: int) -> tuple[list[str], int]:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return [], -1
    fields = text.rsplit(")", 1)[1].split()  # after the command's name, which may hold spaces
    return fields, int(fields[1])


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _backend(pid: int) -> bool:
    """A client's backend, not one of the server's own processes (checkpointer, walwriter, …)."""
    title = _cmdline(pid)
    return not any(word in title for word in (b"checkpointer", b"background writer", b"walwriter",
                                              b"autovacuum launcher", b"logical replication", b"stats"))  # fmt: skip


def state_cost(folder: Path, count: int) -> dict[str, Any] | None:
    """First run and second night of `count` jobs on an SQLite file and on a PostgreSQL server, side
    by side against one emulator; None where PostgreSQL's server is not installed."""
    if binaries() is None:
        return None
    data, manifest, _ = jobs(count, 900 + count, folder)
    server = start_server()
    try:
        url = server.url(server.database())
        figures: dict[str, Any] = {"jobs": count}
        with emulator(data, "--qps", "0") as endpoint:
            for name, state in (("sqlite", folder / f"pg-cost-{count}.db"), ("postgresql", url)):
                args = run_args(
                    manifest, endpoint, folder / f"pg-{name}", state, "--qps", "100000", "--concurrency", "16"
                )
                before = server_cpu(server)
                first = measured(folder, *args)
                middle = server_cpu(server)
                second = measured(folder, *args)
                after = server_cpu(server)
                figures[name] = {"first": first, "second": second,
                                 "server_first": middle - before, "server_second": after - middle}  # fmt: skip
        return figures
    finally:
        server.stop()


def lines(cost: dict[str, Any] | None) -> list[str]:
    """The table of RESULTS.md, and the target row of the PostgreSQL first run's CPU."""
    if cost is None:
        return ["", "PostgreSQL state: not measured (Debian's postgresql is not installed here)."]
    jobs_ = cost["jobs"]
    rows = [
        "",
        f"### The state on PostgreSQL ({jobs_:,} jobs, limits-off emulator)",
        "",
        "| state | run | vod-audit CPU s | CPU ms per job | server CPU s | wall s | exit |",
        "|---|---|---|---|---|---|---|",
    ]
    for name in ("sqlite", "postgresql"):
        for run in ("first", "second"):
            m, server = cost[name][run], cost[name][f"server_{run}"]
            shown = f"{server:.2f}" if name == "postgresql" else "—"
            rows.append(
                f"| {name} | {run} | {m['cpu']:.2f} | {1000 * m['cpu'] / jobs_:.3f} | {shown} | {m['wall']:.1f} | {m['exit']} |"
            )
    ratio = cost["postgresql"]["first"]["cpu"] / cost["sqlite"]["first"]["cpu"]
    second = cost["postgresql"]["second"]["cpu"] / cost["sqlite"]["second"]["cpu"]
    rows += ["", f"PostgreSQL ÷ SQLite, vod-audit's CPU: first run ×{ratio:.2f}, second night ×{second:.2f}."]
    return rows


def targets(cost: dict[str, Any] | None) -> list[tuple[str, bool]]:
    if cost is None:
        return []
    ratio = cost["postgresql"]["first"]["cpu"] / cost["sqlite"]["first"]["cpu"]
    return [(f"PostgreSQL first run, vod-audit's CPU ÷ SQLite's ≤ 1.3× | ×{ratio:.2f}", ratio <= 1.3)]
