"""Several accounts and regions in one run: aliases, one limiter per account, results per provider,
state kept apart, and `report merge`."""

from __future__ import annotations

import csv
import json
import urllib.request
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml

from audit.calls.connection import open_connections
from audit.emulator.data import job_identity
from audit.emulator.generate import generate
from audit.options import RunOptions
from tests.run.helpers import clean_env, cli, results, run_args

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

SECOND = ("second-ak", "second-secret", None)


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=10) as answer:
        return json.load(answer)


def profiles(home: Path, *entries: tuple[str, str, str]) -> None:
    path = home / ".aliyun" / "config.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    listed = [{"name": n, "mode": "AK", "access_key_id": k, "access_key_secret": s} for n, k, s in entries]
    path.write_text(json.dumps({"current": entries[0][0], "profiles": listed}))
    path.chmod(0o600)


def manifest(path: Path, bodies: list[dict], providers: dict, pick) -> Path:
    jobs = []
    for n, body in enumerate(bodies):
        job_type, job_id = job_identity(body)
        job = {"id": job_id, "type": job_type}
        if pick(n):
            job["provider"] = pick(n)
        jobs.append(job)
    path.write_text(yaml.safe_dump({"version": 1, "providers": providers, "jobs": jobs}, sort_keys=False))
    return path


def test_two_accounts_run_side_by_side_each_at_its_own_limit(start_emulator, tmp_path):
    bodies = generate(450, seed=21)
    emulator = start_emulator(jobs=bodies, accounts=(SECOND,), latency_ms=100)  # 15/s per account
    home = tmp_path / "home"
    profiles(home, ("one", "emulator-ak", "emulator-secret"), ("two", *SECOND[:2]))
    aliases = {
        "a": {"endpoint": emulator.url, "profile": "one"},
        "b": {"endpoint": emulator.url, "profile": "two"},
    }
    path = manifest(tmp_path / "m.yaml", bodies, aliases, lambda n: "ab"[n % 2])
    out = tmp_path / "out"
    done = cli(*run_args(path, out, emulator.url), env=clean_env(HOME=str(home)), timeout=120)
    assert done.returncode in (0, 2), done.stderr
    document = results(out)
    counted = stats(emulator.url)
    assert len(document["results"]) == 450 and document["counts"]["error"] == 0
    assert counted["by_outcome"].get("Throttling.User", 0) == 0 and document["throttles"] == 0
    assert {k: sum(v.values()) for k, v in counted["by_access_key"].items()} == {
        "emulator-ak": 225,
        "second-ak": 225,
    }
    lines = {line["provider"]: line for line in document["providers"]}
    assert set(lines) == {"a", "b"} and lines["a"]["calls"] == lines["b"]["calls"] == 225
    assert lines["b"]["access_key_id"] == "seco****d-ak" and lines["a"]["qps"] == 15
    assert {r["provider"] for r in document["results"]} == {"a", "b"}
    assert "provider b: 225 jobs, calls 225  retries 0  throttles 0" in done.stdout
    # Every format says which provider each result came from.
    with (out / "results.csv").open() as rows:
        assert {row["provider"] for row in csv.DictReader(rows)} == {"a", "b"}
    junit = ET.parse(out / "junit.xml")
    assert {p.get("value") for p in junit.iter("property") if p.get("name") == "provider"} == {"a", "b"}
    sarif = json.loads((out / "results.sarif").read_text())
    assert {r["properties"]["provider"] for r in sarif["runs"][0]["results"]} <= {"a", "b"}
    page = (out / "report.html").read_text()
    assert 'id="provider-counts"' in page and 'id="jobs-provider"' in page and 'data-provider="b"' in page


def test_providers_with_the_same_credentials_share_one_limiter(tmp_path, monkeypatch):
    profiles(tmp_path, ("one", "AK-one", "s1"), ("two", "AK-two", "s2"), ("again", "AK-one", "s1"))
    monkeypatch.setenv("HOME", str(tmp_path))
    for name in [n for n in list(__import__("os").environ) if n.startswith("ALIBABA_CLOUD_")]:
        monkeypatch.delenv(name)
    aliases = {
        "sg": {"region": "ap-southeast-1", "profile": "one"},
        "sh": {"region": "cn-shanghai", "profile": "one"},  # the same key, another region
        "copy": {"region": "eu-central-1", "profile": "again", "qps": 5},  # the same AccessKey ID
        "other": {"region": "eu-central-1", "profile": "two"},
    }
    with open_connections(RunOptions(concurrency=12), aliases, set(aliases)) as conns:
        assert conns["sg"].limiter is conns["sh"].limiter is conns["copy"].limiter
        assert conns["other"].limiter is not conns["sg"].limiter
        assert conns["sg"].limiter.qps == 5  # an account's limiter runs at its lowest qps
        assert conns["sg"].keys is conns["sh"].keys  # one profile, resolved once
        assert conns["sg"].endpoint.url == "https://vod.ap-southeast-1.aliyuncs.com"
        # --concurrency is the total, shared by rate: 5/s against 15/s
        assert (conns["sg"].concurrency, conns["other"].concurrency) == (3, 9)


def test_a_provider_s_credentials_from_named_environment_variables(start_emulator, tmp_path):
    bodies = generate(6, seed=3)
    emulator = start_emulator(jobs=bodies, accounts=(SECOND,), qps=0)
    aliases = {
        "eu": {
            "endpoint": emulator.url,
            "credentials_env": {"access_key_id": "EU_KEY", "access_key_secret": "EU_SECRET"},
        }
    }
    path = manifest(tmp_path / "m.yaml", bodies, aliases, lambda n: "eu" if n % 2 else None)
    env = clean_env(
        EU_KEY="second-ak",
        EU_SECRET="second-secret",
        ALIBABA_CLOUD_ACCESS_KEY_ID="emulator-ak",
        ALIBABA_CLOUD_ACCESS_KEY_SECRET="emulator-secret",
    )
    done = cli(*run_args(path, tmp_path, emulator.url), env=env)
    assert done.returncode in (0, 2), done.stderr
    assert {k: sum(v.values()) for k, v in stats(emulator.url)["by_access_key"].items()} == {
        "emulator-ak": 3,
        "second-ak": 3,
    }
    without = {k: v for k, v in env.items() if not k.startswith("EU_")}
    missing = cli(*run_args(path, tmp_path, emulator.url), env=without)
    assert missing.returncode == 1
    assert (
        missing.stderr == "vod-audit: provider eu: EU_KEY and EU_SECRET not set (named by credentials_env)\n"
    )


def test_state_keeps_providers_apart_and_merge_combines_runs(start_emulator, tmp_path):
    bodies = generate(10, seed=9)
    first, second = start_emulator(jobs=bodies, qps=0), start_emulator(jobs=bodies, qps=0)
    aliases = {"one": {"endpoint": first.url}, "two": {"endpoint": second.url}}
    state = tmp_path / "state.db"

    def audit(alias: str, out: Path) -> dict:
        path = manifest(tmp_path / "m.yaml", bodies, aliases, lambda n: alias)
        done = cli(*run_args(path, out, first.url, "--state", str(state)))
        assert done.returncode in (0, 2), done.stderr
        return results(out)

    assert audit("one", tmp_path / "r1")["calls"] == 10
    assert audit("one", tmp_path / "r1")["calls"] < 10  # finished answers reused on the same service
    assert audit("two", tmp_path / "r2")["calls"] == 10  # another service: asked there

    # Two runs of the default provider, one per emulator (per region, on separate machines): merged.
    singles = []
    for n, url in enumerate((first.url, second.url)):
        part = bodies[n * 5 : n * 5 + 5]
        path = manifest(tmp_path / f"s{n}.yaml", part, {}, lambda _: None)
        out = tmp_path / f"single{n}"
        done = cli(*run_args(path, out, url))
        assert done.returncode in (0, 2), done.stderr
        singles.append(out / "results.json")
    merged = tmp_path / "merged"
    done = cli("report", "merge", *map(str, singles), "--out", str(merged))
    assert done.returncode == 0 and "merged 2 runs: 10 jobs" in done.stdout, done.stderr
    document = results(merged)
    hosts = {f"default@{url.split('//')[1]}" for url in (first.url, second.url)}
    assert {r["provider"] for r in document["results"]} == hosts
    assert {line["provider"] for line in document["providers"]} == hosts
    assert document["calls"] == 10 and len(document["options"]["merged_from"]) == 2
    # Issue 26, item 10: a merged report shows each run's options, not only the first run's.
    ids = document["options"]["merged_from"]
    assert set(document["options"]["runs"]) == set(ids)
    page = (merged / "report.html").read_text()
    assert all(f"<dt>options of {run_id}</dt>" in page for run_id in ids)
    assert (merged / "SHA256SUMS").is_file()
    twice = cli("report", "merge", str(singles[0]), str(singles[0]), "--out", str(tmp_path / "x"))
    assert twice.returncode == 1 and "is also in" in twice.stderr


@pytest.mark.parametrize("value", ["no-colon", ":secret", "id:", "a:b:c:d"])
def test_emulator_account_flag_is_checked_without_echoing_it(vod_audit, value):
    done = vod_audit("emulator", "--jobs", "1", "--account", value)
    assert done.returncode == 1 and "--account must be ID:SECRET" in done.stderr
    assert value not in done.stderr or value == "no-colon"
