"""Discovery end to end: the real CLI asks a real emulator on 127.0.0.1 for a window's media and jobs."""

from __future__ import annotations

import csv
import json
import re
import urllib.request
import xml.etree.ElementTree as ET
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml

from audit.common.timeutil import format_utc
from tests.bodies import body
from tests.run.helpers import EMULATOR_ENV, clean_env, cli, results, run_args

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

SECOND = ("second-ak", "second-secret", None)
OPERATIONS = ("SearchMedia", "ListJobInfo", "GetJobDetail")


def stats(url: str) -> dict:
    with urllib.request.urlopen(f"{url}/_emulator/stats", timeout=10) as answer:
        return json.load(answer)


def served(url: str) -> dict[str, int]:
    """Calls each operation served, over every account."""
    by_operation = stats(url)["by_operation"]
    return {op: sum(a.get("served", 0) for a in by_operation.get(op, {}).values()) for op in OPERATIONS}


def throttled(url: str) -> int:
    by_operation = stats(url)["by_operation"]
    return sum(a.get("throttled", 0) for accounts in by_operation.values() for a in accounts.values())


def jobs(count: int, kind: str = "transcode", prefix: str = "j", **fields: object) -> list[dict]:
    """`count` jobs of one type, each of a media of its own, created an hour ago."""
    created = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    media_field = "MediaId" if kind == "ai" else "VideoId"
    return [
        {
            k: v
            for k, v in body(
                kind,
                JobId=f"{prefix}{n:08d}",
                **{media_field: f"m-{prefix}{n:08d}"},
                CreateTime=format_utc(created + timedelta(seconds=n % 600)),
                CompleteTime=format_utc(created + timedelta(seconds=n % 600 + 40)),
                **fields,
            ).items()
            if k != "RequestId"
        }
        for n in range(count)
    ]


def embedded_run(manifest: Path, data: Path, folder: Path, *extra: str):
    """`vod-audit run` of `manifest` on the embedded emulator serving `data`, reports in folder/out."""
    return cli(
        "run",
        str(manifest),
        "--emulator",
        str(data),
        "--out",
        str(folder / "out"),
        "--no-progress",
        "--state",
        str(folder / "state.db"),
        *extra,
        env=clean_env(**EMULATOR_ENV),
    )


def write(path: Path, document: dict) -> Path:
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def predicted(stdout: str) -> dict[str, int]:
    """plan's predicted calls per operation, summed over its `calls (...)` lines."""
    found = dict.fromkeys(OPERATIONS, 0)
    for line in stdout.splitlines():
        if line.startswith("  calls ("):
            for op, count in re.findall(r"(\w+) ([\d,]+) at", line):
                found[op] += int(count.replace(",", ""))
    return found


def test_a_window_past_the_paging_limit_is_discovered_completely(start_emulator, tmp_path):
    # 12,000 media: past the 5,000 results SearchMedia pages to, so only the ScrollToken traversal
    # reaches them all (limits raised on both sides so the test takes seconds, not minutes).
    emulator = start_emulator(jobs=jobs(12_000), qps=0, search_qps=0, list_qps=0)
    manifest = write(
        tmp_path / "night.yaml",
        {
            "version": 1,
            "defaults": {"transcode": {"Status": "TranscodeSuccess"}},
            "jobs_from": [{"media": {"since": "24h", "types": ["transcode"], "media_types": ["video"]}}],
        },
    )
    fast = ("--search-qps", "500", "--list-qps", "4000", "--concurrency", "32")
    done = cli("plan", str(manifest), "--endpoint", emulator.url, "--discover", *fast, timeout=300)
    assert done.returncode == 0, done.stderr
    assert ": 12,000 media, 12,000 jobs" in done.stdout
    assert served(emulator.url) == {"SearchMedia": 120, "ListJobInfo": 12_000, "GetJobDetail": 0}
    assert predicted(done.stdout) == {"SearchMedia": 120, "ListJobInfo": 12_000, "GetJobDetail": 12_000}


def test_each_operation_keeps_to_its_own_limit_and_plan_predicts_the_run(start_emulator, tmp_path):
    # The emulator refuses any call past its per-operation, per-account quota; the client runs at
    # the same limits. Three sources of two media types make six SearchMedia calls at 4/s.
    limits = {"qps": 8, "search_qps": 4, "list_qps": 6}
    emulator = start_emulator(jobs=jobs(4) + jobs(2, "snapshot", "s"), **limits)
    sources = [
        {"media": {"since": since, "types": ["transcode", "snapshot"]}} for since in ("2h", "3h", "4h")
    ]
    manifest = write(tmp_path / "night.yaml", {"version": 1, "jobs_from": sources})
    rates = ("--qps", "8", "--search-qps", "4", "--list-qps", "6")
    # Without --discover, plan asks only each window's Total (one SearchMedia call per source and
    # type) and states the discovery's cost from it; with it, the jobs too.
    costed = cli("plan", str(manifest), "--endpoint", emulator.url, *rates)
    assert costed.returncode == 0, costed.stderr
    assert served(emulator.url) == {"SearchMedia": 6, "ListJobInfo": 0, "GetJobDetail": 0}
    assert "+ a GetJobDetail per job discovery lists" in costed.stdout
    plan = cli("plan", str(manifest), "--endpoint", emulator.url, "--discover", *rates)
    assert plan.returncode == 0, plan.stderr
    before = served(emulator.url)
    out = tmp_path / "out"
    done = cli(*run_args(manifest, out, emulator.url, *rates))
    assert done.returncode == 0, done.stderr
    after = served(emulator.url)
    made = {op: after[op] - before[op] for op in OPERATIONS}
    # 6 searches; 6 media x 2 types, three times; each job once
    assert made == {"SearchMedia": 6, "ListJobInfo": 36, "GetJobDetail": 6}
    assert predicted(plan.stdout) == made
    assert {op: n for op, n in predicted(costed.stdout).items() if op != "GetJobDetail"} == {
        "SearchMedia": made["SearchMedia"],
        "ListJobInfo": made["ListJobInfo"],
    }
    assert throttled(emulator.url) == 0
    document = results(out)
    assert [d["calls"] for d in document["discovery"]] == [{"SearchMedia": 2, "ListJobInfo": 12}] * 3
    assert [d["added"] for d in document["discovery"]] == [6, 0, 0]
    assert document["sources"] == {"media": 6} and document["verdict"] == "PASS"


def test_unmanaged_jobs_and_lost_events_are_said_in_every_format(start_emulator, tmp_path):
    bodies = jobs(5)
    emulator = start_emulator(jobs=bodies, qps=0, search_qps=0, list_qps=0)
    listed, evented = bodies[0]["TranscodeJobDetail"]["JobId"], bodies[1]["TranscodeJobDetail"]["JobId"]
    events = tmp_path / "events.jsonl"
    events.write_text(
        "".join(
            json.dumps(
                {
                    "EventType": "StreamTranscodeComplete",
                    "EventTime": format_utc(datetime.now(UTC)),
                    "JobId": j,
                    "VideoId": f"m-{j}",
                    "Status": "success",
                }
            )
            + "\n"
            for j in (evented, "ghost-job")
        )
    )
    manifest = write(
        tmp_path / "night.yaml",
        {
            "version": 1,
            "jobs": [{"id": listed, "type": "transcode"}],
            "jobs_from": [
                {"events": "events.jsonl"},
                {"media": {"since": "24h", "types": ["transcode"], "unmanaged": "report"}},
            ],
        },
    )
    out = tmp_path / "out"
    done = cli(*run_args(manifest, out, emulator.url, "--qps", "200"))
    assert done.returncode == 2, done.stderr  # the ghost job: not found
    kinds = {r["job_id"]: sorted(f["kind"] for f in r["findings"]) for r in results(out)["results"]}
    unmanaged = [b["TranscodeJobDetail"]["JobId"] for b in bodies[2:]]
    assert kinds == {
        listed: ["missed_event"],
        evented: [],
        "ghost-job": ["not_found", "unlisted"],
        **{j: ["missed_event", "unmanaged"] for j in unmanaged},
    }
    lost = unmanaged[0]
    sarif = json.loads((out / "results.sarif").read_text())
    said = {(r["ruleId"].split("/")[0], r["properties"]["job_id"]) for r in sarif["runs"][0]["results"]}
    assert any(lost == job and "unmanaged" in rule.lower() for rule, job in said), said
    junit = (out / "junit.xml").read_text()
    assert re.search(rf'name="{lost}".*?unmanaged', junit, re.S) and "missed_event" in junit
    ET.fromstring(junit)
    with (out / "results.csv").open() as rows:
        row = next(r for r in csv.DictReader(rows) if r["job_id"] == lost)
    assert "unmanaged" in json.dumps(row)
    for name, heading in (
        ("summary.md", "- **unmanaged**, named by no list"),
        ("report.html", 'id="discovered-unmanaged"'),
    ):
        text = (out / name).read_text()
        section = text[text.index(heading) :].split("\n")[0]
        assert all(j in section for j in unmanaged) and listed not in section, name
        assert "missed_event" in text and "unlisted" in text and "ghost-job" in text, name


def test_discovery_across_two_providers_spends_each_account_s_own_quota(start_emulator, tmp_path):
    emulator = start_emulator(jobs=jobs(6), accounts=(SECOND,), qps=0, search_qps=0, list_qps=0)
    providers = {
        alias: {
            "endpoint": emulator.url,
            "credentials_env": {"access_key_id": f"{alias}_KEY", "access_key_secret": f"{alias}_SECRET"},
        }
        for alias in ("eu", "us")
    }
    manifest = write(
        tmp_path / "night.yaml",
        {
            "version": 1,
            "providers": providers,
            "jobs_from": [
                {"media": {"since": "24h", "types": ["transcode"]}, "provider": "eu"},
                {"media": {"since": "24h", "types": ["transcode"]}, "provider": "us"},
            ],
        },
    )
    env = clean_env(
        eu_KEY="emulator-ak", eu_SECRET="emulator-secret", us_KEY="second-ak", us_SECRET="second-secret"
    )
    out = tmp_path / "out"
    done = cli(*run_args(manifest, out, emulator.url, "--qps", "100"), env=env)
    assert done.returncode == 0, done.stderr
    by_operation = stats(emulator.url)["by_operation"]
    assert {account: n["served"] for account, n in by_operation["ListJobInfo"].items()} == dict.fromkeys(
        by_operation["ListJobInfo"], 6
    ) and len(by_operation["ListJobInfo"]) == 2
    document = results(out)
    assert [(d["provider"], d["jobs"], d["added"]) for d in document["discovery"]] == [
        ("eu", 6, 6),
        ("us", 6, 0),
    ]
    assert {r["provider"] for r in document["results"]} == {"eu"}  # audited by the account that found them


def test_a_window_that_cannot_be_covered_stops_the_run_with_one_sentence(start_emulator, tmp_path):
    bodies = jobs(4)
    emulator = start_emulator(
        jobs=bodies, qps=0, search_qps=0, list_qps=0, failing_media=frozenset({"m-j00000002"})
    )
    manifest = write(
        tmp_path / "night.yaml",
        {"version": 1, "jobs_from": [{"media": {"since": "24h", "types": ["transcode"]}}]},
    )
    out = tmp_path / "out"
    done = cli(*run_args(manifest, out, emulator.url, "--retries", "1"))
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith(
        f"vod-audit: {manifest}:3:3: discovery could not cover its window: ListJobInfo"
    )
    assert "m-j00000002" in done.stderr and "nothing was audited" in done.stderr
    assert served(emulator.url)["GetJobDetail"] == 0 and not (out / "results.json").exists()


def test_the_issue_s_manifest_runs_on_the_embedded_emulator(tmp_path):
    data = tmp_path / "data.json"
    data.write_text(json.dumps({"jobs": jobs(3) + jobs(2, "snapshot", "s") + jobs(1, "ai", "a")}))
    manifest = tmp_path / "night.yaml"
    manifest.write_text(
        "version: 1\n"
        "defaults:\n"
        "  transcode: {Status: TranscodeSuccess, max_duration: 30m}\n"
        "jobs_from:\n"
        "  - media: {since: 24h, types: [transcode, snapshot, ai]}\n"
    )
    out = tmp_path / "out"
    done = embedded_run(manifest, data, tmp_path)
    assert done.returncode == 0, done.stderr
    document = results(out)
    assert document["planned"] == 6 and document["sources"] == {"media": 6}
    assert "discovery " in done.stdout and ": 6 media, 6 jobs listed, 6 named by no list" in done.stdout


def test_import_media_pins_the_jobs_the_service_lists_for_it(start_emulator, tmp_path):
    bodies = jobs(3) + jobs(2, "snapshot", "s")
    emulator = start_emulator(jobs=bodies, qps=0, search_qps=0, list_qps=0)
    listing = tmp_path / "media.txt"
    listing.write_text("# tonight's unmanaged media\nm-s00000001\n")
    done = cli("import", "--media", "m-j00000000", "--media-file", str(listing), "--endpoint", emulator.url)
    assert done.returncode == 0, done.stderr
    pinned = yaml.safe_load(done.stdout)
    assert [(j["type"], j["id"]) for j in pinned["jobs"]] == [
        ("transcode", "j00000000"),
        ("snapshot", "s00000001"),
    ]
    assert pinned["jobs"][0]["expect"]["Status"] == "TranscodeSuccess"
    assert served(emulator.url) == {"SearchMedia": 0, "ListJobInfo": 6, "GetJobDetail": 2}
    only = cli("import", "--media", "m-j00000000", "--type", "snapshot", "--endpoint", emulator.url)
    assert only.returncode == 1 and only.stderr == "vod-audit: the service lists no job of 1 media\n"
    both = cli("import", "--media", "m-j00000000", "--ids", str(listing), "--endpoint", emulator.url)
    assert both.returncode == 1 and "give either" in both.stderr


def test_a_data_file_s_own_media_entries_are_searched_by_their_fields(tmp_path):
    bodies = jobs(4)
    old = format_utc(datetime.now(UTC) - timedelta(days=3))
    data = tmp_path / "data.json"
    media = [
        {"MediaId": "m-j00000000", "Tags": "night,news", "StorageLocation": "outin-a.oss"},
        {"MediaId": "m-j00000001", "Tags": ["news"], "CreationTime": old},  # outside the window
        {"MediaId": "m-empty", "Tags": "news"},  # no job
        {"MediaId": "m-j00000002", "MediaType": "audio", "Tags": "news"},
    ]
    data.write_text(json.dumps({"jobs": bodies, "media": media}))
    manifest = write(
        tmp_path / "night.yaml",
        {"version": 1, "jobs_from": [{"media": {"since": "24h", "types": ["transcode"], "tags": ["news"]}}]},
    )
    out = tmp_path / "out"
    done = embedded_run(manifest, data, tmp_path)
    assert done.returncode == 0, done.stderr
    document = results(out)
    assert sorted(r["job_id"] for r in document["results"]) == ["j00000000", "j00000002"]
    assert [(d["media"], d["jobs"]) for d in document["discovery"]] == [(3, 2)]  # video: 2 media, audio: 1
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"jobs": bodies, "media": [{"MediaId": "m", "CreationTime": "yesterday"}]}))
    refused = embedded_run(manifest, bad, tmp_path)
    assert refused.returncode == 1
    assert (
        refused.stderr
        == f"vod-audit: {bad}: media entry 1: CreationTime 'yesterday' is not a YYYY-MM-DDTHH:mm:ssZ time\n"
    )


def test_a_listed_job_whose_media_the_window_does_not_list_is_said_unlisted(tmp_path):
    bodies = jobs(3)
    gone = bodies[1]["TranscodeJobDetail"]["JobId"]
    old = format_utc(datetime.now(UTC) - timedelta(days=30))
    data = tmp_path / "data.json"  # the job ran an hour ago; its media says it was made a month ago
    data.write_text(json.dumps({"jobs": bodies, "media": [{"MediaId": f"m-{gone}", "CreationTime": old}]}))
    listed = [{"id": b["TranscodeJobDetail"]["JobId"], "type": "transcode"} for b in bodies[:2]]
    manifest = write(
        tmp_path / "night.yaml",
        {"version": 1, "jobs": listed, "jobs_from": [{"media": {"since": "24h", "types": ["transcode"]}}]},
    )
    out = tmp_path / "out"
    done = embedded_run(manifest, data, tmp_path)
    assert done.returncode == 0, done.stderr  # a warning: the outcome stands
    found = {
        r["job_id"]: [(f["kind"], f["severity"], f["actual"]) for f in r["findings"]]
        for r in results(out)["results"]
    }
    assert found == {"j00000000": [], gone: [("unlisted", "warning", f"m-{gone}")], "j00000002": []}


def test_unmanaged_fail_on_the_command_line_makes_each_unlisted_job_drift(start_emulator, tmp_path):
    bodies = jobs(3)
    emulator = start_emulator(jobs=bodies, qps=0, search_qps=0, list_qps=0)
    listed = bodies[0]["TranscodeJobDetail"]["JobId"]
    manifest = write(
        tmp_path / "night.yaml",
        {
            "version": 1,
            "jobs": [{"id": listed, "type": "transcode"}],
            "jobs_from": [{"media": {"since": "24h", "types": ["transcode"]}}],  # unmanaged: ignore
        },
    )
    quiet = cli(*run_args(manifest, tmp_path / "quiet", emulator.url))
    assert quiet.returncode == 0, quiet.stderr
    loud = cli(*run_args(manifest, tmp_path / "loud", emulator.url, "--unmanaged", "fail"))
    assert loud.returncode == 2, loud.stderr
    outcomes = {
        r["job_id"]: (r["outcome"], [f["kind"] for f in r["findings"]])
        for r in results(tmp_path / "loud")["results"]
    }
    assert outcomes == {
        listed: ("ok", []),
        "j00000001": ("drift", ["unmanaged"]),
        "j00000002": ("drift", ["unmanaged"]),
    }
    assert results(tmp_path / "loud")["options"]["unmanaged"] == "fail"
