"""A 100,000-job manifest loads and validates, and memory grows in proportion to the jobs."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

PROBE = """
import json, resource, sys, time
from audit.manifest.load import load_manifests
started = time.process_time()
manifest = load_manifests([sys.argv[1]], env={})
print(json.dumps({"jobs": len(manifest.jobs), "cpu": time.process_time() - started,
                  "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))
"""


def write_manifest(path, count):
    types = ["transcode", "snapshot", "ai", "workflow"]
    lines = [
        "version: 1",
        "vars: {hd: dbfaaec9e0000000000000000bf0b812}",
        "defaults:",
        "  transcode: {Status: TranscodeSuccess, TemplateId: '${var.hd}', max_duration: 10m}",
        "  ai: {Status: success, TemplateConfig: {AuditItem: {contains: [porn]}}}",
        "jobs:",
    ]
    for i in range(count):
        job_type = types[i % 4]
        lines.append(f"  - id: '{i:032x}'\n    type: {job_type}")
        if job_type == "transcode":
            lines.append("    expect: {Definition: {one_of: [HD, FHD]}}")
    path.write_text("\n".join(lines) + "\n")


def measure(path):
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(path)], capture_output=True, text=True, timeout=300, check=True
    )
    return json.loads(done.stdout)


def test_100k_jobs_load_with_proportional_memory(tmp_path):
    small, large = tmp_path / "10k.yaml", tmp_path / "100k.yaml"
    write_manifest(small, 10_000)
    write_manifest(large, 100_000)
    first, second = measure(small), measure(large)
    assert (first["jobs"], second["jobs"]) == (10_000, 100_000)
    per_job_kib = (second["rss_kib"] - first["rss_kib"]) / 90_000
    print(
        f"\n10k: {first['cpu']:.2f} CPU-s, {first['rss_kib'] / 1024:.0f} MiB; "
        f"100k: {second['cpu']:.2f} CPU-s, {second['rss_kib'] / 1024:.0f} MiB; {per_job_kib:.2f} KiB per job"
    )
    assert per_job_kib < 4.0  # bounded cost per job, however large the manifest
