"""Provider aliases in manifests: on jobs, in defaults per type, in CSV columns and job lists."""

from __future__ import annotations

import json
from pathlib import Path

from audit.manifest.load import load_manifests

MANIFEST = """
version: 1
providers:
  sg: {region: ap-southeast-1, profile: sg-auditor, qps: 10}
  eu:
    endpoint: https://vod.eu-central-1.aliyuncs.com
    credentials_env: {access_key_id: EU_ID, access_key_secret: EU_SECRET}
defaults:
  ai: {provider: sg, Status: success}
jobs:
  - {id: t1, type: transcode}
  - {id: t2, type: transcode, provider: eu}
  - {id: a1, type: ai}
  - {id: a2, type: ai, provider: eu}
jobs_from:
  - csv: list.csv
    provider: eu
  - events: events.jsonl
    provider: sg
"""


def test_a_job_s_provider_comes_from_itself_its_list_or_its_type_s_default(tmp_path: Path):
    (tmp_path / "m.yaml").write_text(MANIFEST)
    (tmp_path / "list.csv").write_text("id,type,provider\nc1,transcode,sg\nc2,transcode,\nc3,ai,\n")
    event = {"EventType": "StreamTranscodeComplete", "EventTime": "2026-11-24T00:00:00Z", "JobId": "e1"}
    (tmp_path / "events.jsonl").write_text(json.dumps(event) + "\n")
    manifest = load_manifests([tmp_path / "m.yaml"], env={})
    providers = {spec.job_id: spec.provider for spec in manifest.jobs}
    assert providers == {
        "t1": None,  # the default provider
        "t2": "eu",
        "a1": "sg",  # the ai default
        "a2": "eu",  # its own wins over the default
        "c1": "sg",  # the CSV column wins over the list's
        "c2": "eu",
        "c3": "eu",  # the list's wins over the type's default
        "e1": "sg",
    }
    assert manifest.providers["sg"] == {"region": "ap-southeast-1", "profile": "sg-auditor", "qps": 10}
    assert manifest.providers["eu"]["credentials_env"]["access_key_id"] == "EU_ID"
    expectations = {spec.job_id: dict(spec.expect) for spec in manifest.jobs}
    assert "provider" not in expectations["a1"] and "Status" in expectations["a1"]


def test_providers_may_only_be_declared_at_the_top(tmp_path: Path):
    (tmp_path / "m.yaml").write_text("version: 1\ninclude: [part.yaml]\njobs: []\n")
    (tmp_path / "part.yaml").write_text("providers:\n  sg: {region: ap-southeast-1}\n")
    try:
        load_manifests([tmp_path / "m.yaml"], env={})
    except Exception as exc:  # ManifestInvalid
        assert "providers: is only allowed in a top-level manifest" in str(exc)
    else:
        raise AssertionError("an included providers: block was accepted")
