"""The event routes' rates (#41): receiver deliveries per second on one core, consumer messages per second."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from audit.vod.callback import signed_headers
from bench.harness import ENV, PYTHON, emulator, jobs, measured, stats

KEY = "bench-auth-key"
QUEUE = "vod-events"


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a running process, from /proc (clock ticks)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def receiver_rate(folder: Path, deliveries: int, clients: int = 16) -> dict[str, Any]:
    """`receive` pinned to one core, `clients` threads (on the other core when there is one) sending
    signed deliveries: deliveries per second of wall time and per CPU-second of the receiver."""
    cores = sorted(os.sched_getaffinity(0))
    process = subprocess.Popen(
        [PYTHON, "-m", "audit", "receive", "--listen", "127.0.0.1:0", "--events-dir", str(folder / "received"),
         "--callback-url", "http://bench/", "--auth-key-env", "VOD_AUTH_KEY"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**ENV, "VOD_AUTH_KEY": KEY},
        preexec_fn=lambda: os.sched_setaffinity(0, {cores[0]}),
    )  # fmt: skip
    own = os.sched_getaffinity(0)
    try:
        url = (process.stdout.readline() if process.stdout else "").split()[-1] + "/"
        if len(cores) > 1:
            os.sched_setaffinity(0, set(cores[1:]))
        session = requests.Session()

        def deliver(n: int) -> int:
            body = json.dumps({"EventType": "StreamTranscodeComplete", "JobId": f"{n:032x}"})
            headers = signed_headers("http://bench/", int(time.time()), KEY)
            return session.post(url, data=body, headers=headers, timeout=30).status_code

        before = _cpu_seconds(process.pid)
        started = time.perf_counter()
        with ThreadPoolExecutor(clients) as pool:
            answers = list(pool.map(deliver, range(deliveries)))
        seconds = time.perf_counter() - started
        cpu = _cpu_seconds(process.pid) - before
    finally:
        os.sched_setaffinity(0, own)
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=60)
    return {
        "deliveries": deliveries,
        "ok": answers.count(200),
        "wall": seconds,
        "per_second": deliveries / seconds,
        "cpu": cpu,
        "per_cpu_second": deliveries / cpu if cpu else 0.0,
    }


def consumer_rate(folder: Path, count: int) -> dict[str, Any]:
    """`consume --once` draining the emulator's queue of `count` jobs' completion events (base64)."""
    data, _, _ = jobs(count, 900 + count, folder)
    with emulator(data, "--qps", "0", "--queue", QUEUE, "--queue-base64") as url:
        queued = stats(url)["queues"][QUEUE]["sent"]
        run = measured(
            folder,
            "consume",
            "--queue",
            QUEUE,
            "--endpoint",
            url,
            "--events-dir",
            str(folder / "consumed"),
            "--once",
        )
        left = stats(url)["queues"][QUEUE]
    return {
        "messages": queued,
        "deleted": left["deleted"],
        "left": left["active"] + left["inactive"],
        "wall": run["wall"],
        "cpu": run["cpu"],
        "per_second": queued / run["wall"],
        "per_cpu_second": queued / run["cpu"],
    }


def event_routes(folder: Path, deliveries: int, messages: int) -> dict[str, Any]:
    return {"receiver": receiver_rate(folder, deliveries), "consumer": consumer_rate(folder, messages)}


def lines(rates: dict[str, Any] | None) -> list[str]:
    if not rates:
        return []
    http, queue = rates["receiver"], rates["consumer"]
    return [
        "",
        "### Event routes",
        "",
        f"`receive` on one core, 16 client threads on the other: {http['deliveries']:,} signed deliveries "
        f"({http['ok']:,} answered 200, each fsynced before its answer) in {http['wall']:.1f} s, "
        f"**{http['per_second']:.0f} deliveries/s**; the receiver used {http['cpu']:.1f} CPU-s, "
        f"{http['per_cpu_second']:.0f} deliveries per CPU-second.",
        "",
        f"`consume --once` draining the emulator's queue of {queue['messages']:,} base64 events (batches of 16, "
        f"each stored and fsynced before it is deleted): {queue['wall']:.1f} s, **{queue['per_second']:.0f} "
        f"messages/s**, {queue['cpu']:.1f} CPU-s with start-up ({queue['per_cpu_second']:.0f} per CPU-second); "
        f"{queue['deleted']:,} deleted, {queue['left']} left.",
    ]
