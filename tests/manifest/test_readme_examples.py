"""The README's manifest examples load as the README says they do."""

from __future__ import annotations

import json
import re
from pathlib import Path

from audit.manifest.load import load_manifests

README = Path(__file__).resolve().parents[2] / "README.md"


def yaml_block_after(marker: str) -> str:
    text = README.read_text()
    found = re.search(r"```yaml\n(.*?)```", text[text.index(marker) :], re.S)
    assert found is not None, marker
    return found.group(1)


def test_the_multi_region_example_loads_with_each_job_on_its_provider(tmp_path):
    (tmp_path / "m.yaml").write_text(yaml_block_after("**Providers: several accounts and regions"))
    (tmp_path / "eu-jobs.csv").write_text("id,type,provider\neu1,transcode,\nsg1,snapshot,sg\n")
    (tmp_path / "events").mkdir()
    event = {"EventType": "AIMediaAuditComplete", "EventTime": "2026-11-24T00:00:00Z", "JobId": "ai1"}
    (tmp_path / "events" / "sg-1.jsonl").write_text(json.dumps(event) + "\n")
    manifest = load_manifests([tmp_path / "m.yaml"], env={})
    providers = {spec.job_id: spec.provider for spec in manifest.jobs}
    assert providers == {
        "2dc1634e0000000000000000003f1d22": None,
        "7a1e00000000000000000000000c0ffe": "eu",
        "eu1": "eu",
        "sg1": "sg",
        "ai1": "sg",
    }
    assert manifest.providers["eu"]["qps"] == 10 and manifest.provider == {"region": "cn-shanghai"}
