"""The script a user writes today: a sequential loop over the official SDK (for comparison only)."""

from __future__ import annotations

import json
import resource
import sys
import time

from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vod20170321 import models
from alibabacloud_vod20170321.client import Client


def main() -> None:
    url, jobs_file, seconds = sys.argv[1], sys.argv[2], float(sys.argv[3])
    with open(jobs_file) as handle:
        jobs = json.load(handle)
    client = Client(
        Config(
            access_key_id="emulator-ak",
            access_key_secret="emulator-secret",
            endpoint=url.removeprefix("http://"),
            protocol="http",
            region_id="cn-shanghai",
        )
    )
    calls = ok = throttled = errors = 0
    started = time.perf_counter()
    for job_type, job_id in jobs:
        if time.perf_counter() - started >= seconds:
            break
        calls += 1
        try:
            client.get_job_detail(models.GetJobDetailRequest(job_id=job_id, job_type=job_type))
            ok += 1
        except Exception as exc:  # a user's loop logs the failure and goes on
            if "Throttling" in str(getattr(exc, "code", "")):
                throttled += 1
            else:
                errors += 1
    elapsed = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    print(
        json.dumps(
            {
                "calls": calls,
                "ok": ok,
                "throttled": throttled,
                "errors": errors,
                "elapsed": elapsed,
                "cpu": usage.ru_utime + usage.ru_stime,  # the whole process, imports included
            }
        )
    )


if __name__ == "__main__":
    main()
