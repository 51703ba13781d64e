"""N client processes hammering one emulator with the real client (the emulator's ceiling)."""

from __future__ import annotations

import json
import sys
from concurrent.futures import ProcessPoolExecutor


def _client(url: str, keys: list[list[str]], count: int) -> int:
    from audit.common.jobtypes import JobRef
    from audit.vod.client import VodClient
    from audit.vod.endpoints import resolve
    from audit.vod.keys import Credentials
    from audit.vod.records import Answer

    client = VodClient(resolve(endpoint=url), Credentials.of("emulator-ak", "emulator-secret"))
    return sum(isinstance(client.get_job_detail(JobRef(*keys[i % len(keys)])), Answer) for i in range(count))


def main() -> None:
    url, keys, count, clients = sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
    with ProcessPoolExecutor(max_workers=clients) as pool:
        answers = sum(pool.map(_client, [url] * clients, [keys] * clients, [count] * clients, timeout=600))
    print(answers)


if __name__ == "__main__":
    main()
