"""Issue #38: truth under hostile receivers, pages, caches and keys (the third hostile round)."""

from __future__ import annotations

import json
import re

import pytest
import yaml

from tests.conftest import sample_jobs
from tests.run.helpers import cli, emulated_args, write_data

pytestmark = pytest.mark.slow


# 2. A kept judgement tells 0 from false, as the manifest does.
def test_a_kept_judgement_is_not_reused_when_0_became_false(tmp_path):
    first_body = next(b for b in sample_jobs() if b["JobType"] == "ai")
    first_body["AIJobDetail"]["TemplateConfig"] = json.dumps({"AuditItem": ["porn"], "Limit": 0})
    second_body = json.loads(json.dumps(first_body))
    second_body["AIJobDetail"]["JobId"] = "5c9dff751ba00000000000000059d50b"
    data = write_data(tmp_path / "data.json", [first_body, second_body])
    ids = [first_body["AIJobDetail"]["JobId"], second_body["AIJobDetail"]["JobId"]]

    def night(second_value) -> tuple[int, dict]:
        # The first job keeps {Limit: 0}: one process judges both, and 0 == False in Python.
        jobs = [
            {"id": ids[0], "type": "ai", "expect": {"TemplateConfig": {"Limit": 0}}},
            {"id": ids[1], "type": "ai", "expect": {"TemplateConfig": {"Limit": second_value}}},
        ]
        manifest = tmp_path / "m.yaml"
        manifest.write_text(yaml.safe_dump({"version": 1, "jobs": jobs}))
        out = tmp_path / "out"
        done = cli(*emulated_args(manifest, data, out, tmp_path / "s.db", "--no-progress"))
        return done.returncode, json.loads((out / "results.json").read_text())["results"][1]

    code, first = night(0)
    assert code == 0 and first["outcome"] == "ok"
    code, second = night(False)
    assert (code, second["outcome"], second["from_state"]) == (2, "drift", True), second


# 12. A discovered id follows the id rule of every other source: it cannot forge a line.
def test_a_listed_job_id_with_a_line_break_forges_nothing(start_emulator, tmp_path):
    from tests.run.helpers import results, run_args, write_manifest

    body = next(b for b in sample_jobs() if b["JobType"] == "transcode")
    forged = "f00d0000000000000000000000000001\nverdict: PASS\nwaivers:\n- {job: x, expires: '9999-12-31'}"
    body["TranscodeJobDetail"]["JobId"] = forged
    media = body["TranscodeJobDetail"]["VideoId"]
    emulator = start_emulator(jobs=[body], qps=0)
    printed = cli("import", "--media", media, "--type", "transcode", "--endpoint", emulator.url)
    assert printed.returncode == 1
    assert "JobId with control characters or line breaks: f00d0000000000000000000000000001\\nverdict" in (
        printed.stderr
    )
    assert "9999-12-31" not in printed.stdout and "verdict: PASS" not in printed.stdout
    manifest = write_manifest(tmp_path / "m.yaml", [])
    manifest.write_text(f"version: 1\njobs_from:\n  - media: {{media_ids: [{media}], types: [transcode]}}\n")
    out = tmp_path / "out"
    ran = cli(*run_args(manifest, out, emulator.url))
    lines = (ran.stdout + ran.stderr).splitlines()
    assert ran.returncode == 1 and not any(line.startswith(("verdict:", "waivers:")) for line in lines)
    assert ran.stderr.count("\n") == 1 and "line breaks" in ran.stderr
    assert not (out / "results.json").exists() or results(out)["verdict"] != "PASS"


# 1. SearchMedia's pages repeating the same media, or a ScrollToken given again: never complete.
@pytest.mark.parametrize("fault", ["same page again", "token again"])
def test_a_search_that_repeats_itself_is_never_called_complete(tmp_path, fault):
    from tests.hostile import hostile, json_reply
    from tests.run.helpers import run_args

    def answer(query: dict[str, str]):
        if "SearchType" not in query:  # ListJobInfo (V3 signs the action in a header)
            return json_reply({"RequestId": "r", "JobInfoList": []})
        page = int(query.get("PageNo", "1"))
        first = 0 if fault == "same page again" else (page - 1) * 10
        media = [
            {"MediaId": f"m{n:02d}", "CreationTime": "2026-12-01T00:00:00Z"} for n in range(first, first + 10)
        ]
        token = "t-1" if fault == "token again" else f"t-{page}"
        return json_reply({"RequestId": "r", "Total": 25, "MediaList": media, "ScrollToken": token})

    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\njobs_from:\n  - media: {since: 24h, types: [transcode], media_types: [video]}\n"
    )
    with hostile(answer) as url:
        done = cli(*run_args(manifest, tmp_path / "out", url, "--retries", "0"))
    assert done.returncode == 1, done.stdout
    assert done.stderr.count("\n") == 1 and "discovery could not cover its window" in done.stderr
    assert (
        "listed no media not listed before" if fault == "same page again" else "ScrollToken it gave before"
    ) in (done.stderr)
    assert not (tmp_path / "out" / "evidence.json").exists()


def _notified(tmp_path, monkeypatch, url, **overrides):
    """A run of the notification tests' manifest (findings: exit 2) telling its two channels."""
    from tests.notify.test_run_notify import channels, secrets, setup
    from tests.run.helpers import clean_env

    manifest, data = setup(tmp_path, monkeypatch, url, notify=channels(**overrides))
    return manifest, data, clean_env(**secrets(url))


# 5. A receiver's Retry-After of a non-ASCII digit is a retry without a pause, not a crash.
def test_a_retry_after_of_a_non_ascii_digit_never_crashes_the_run(tmp_path, monkeypatch):
    from tests.notify.receiver import receiver

    with receiver() as got:
        got.answers = [(503, b"", {"Retry-After": "\u00b2"}), (200, b'{"errcode":0,"errmsg":"ok"}')]
        manifest, data, env = _notified(tmp_path, monkeypatch, got.url)
        out = tmp_path / "out"
        done = cli(*emulated_args(manifest, data, out, tmp_path / "s.db"), env=env)
    assert done.returncode == 2, done.stderr
    assert "internal error" not in done.stderr and (out / "results.json").exists()
    assert "notify oncall (dingtalk, on new): sent" in done.stdout


# 8. A channel URL with a port past 65535 is that channel's failure, said in words.
def test_a_channel_url_with_an_impossible_port_fails_that_channel_only(tmp_path, monkeypatch):
    from tests.notify.receiver import receiver

    with receiver() as got:
        manifest, data, env = _notified(tmp_path, monkeypatch, got.url)
        env["AUDIT_WEBHOOK_URL"] = "https://127.0.0.1:99999/hooks/x"
        out = tmp_path / "out"
        done = cli(*emulated_args(manifest, data, out, tmp_path / "s.db"), env=env)
    assert done.returncode == 2, done.stderr
    assert (
        "notify archive (webhook, on always): failed (url_env AUDIT_WEBHOOK_URL holds a URL whose port"
        in (done.stdout)
    )
    assert "notify oncall (dingtalk, on new): sent" in done.stdout and (out / "report.html").exists()


# 9. A report_url field with a format spec is refused by validate, at its position.
@pytest.mark.parametrize(
    "template", ["https://ci.example/{run_id:d}", "https://ci.example/{audit:>999999999}"]
)
def test_a_report_url_with_a_format_spec_is_refused_before_any_run(tmp_path, monkeypatch, template):
    manifest, _, env = _notified(
        tmp_path, monkeypatch, "http://127.0.0.1:9", archive={"report_url": template}
    )
    done = cli("validate", str(manifest), env=env)
    assert done.returncode == 1
    assert "report_url formats {" in done.stdout and "a report_url field is its name alone" in done.stdout


# 10. A 200 with a large page is a delivered message, posted once.
def test_a_receiver_answering_200_with_a_large_page_gets_the_message_once(tmp_path, monkeypatch):
    from tests.notify.receiver import receiver

    with receiver() as got:
        got.answers = [(200, b'{"errcode":0,"errmsg":"ok"}' + b" " * 100_000)]
        manifest, data, env = _notified(tmp_path, monkeypatch, got.url)
        done = cli(*emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db"), env=env)
        posted = len(got.requests)
    assert done.returncode == 2, done.stderr
    assert "notify archive (webhook, on always): sent" in done.stdout
    assert "notify oncall (dingtalk, on new): sent" in done.stdout
    assert posted == 2  # one message per channel


# 11. A receiver's page that echoes the request's path never reaches the console or the set.
@pytest.mark.parametrize("status", [404, 200])
def test_a_page_echoing_the_path_and_its_token_is_never_quoted(tmp_path, monkeypatch, status):
    from urllib.parse import quote

    from tests.notify.receiver import receiver
    from tests.notify.test_run_notify import TOKEN, no_secret_anywhere

    with receiver() as got:
        echoed = f"Cannot POST /hooks/{TOKEN}?token={quote(TOKEN)} %2Fhooks%2F{TOKEN}"
        page = json.dumps({"errcode": 404, "errmsg": echoed}) if status == 200 else echoed
        got.answers = [(status, page.encode())]
        manifest, data, env = _notified(tmp_path, monkeypatch, got.url)
        done = cli(*emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db", "-vv"), env=env)
    assert done.returncode == 2, done.stderr
    assert "Cannot POST" not in done.stdout + done.stderr
    no_secret_anywhere(tmp_path, done.stdout, done.stderr)


# 18. A merged set keeps each run's sources and discovery records.
def test_a_merge_keeps_every_runs_sources_and_discovery(tmp_path, vod_audit):
    from dataclasses import replace

    from audit.results.jsonform import parts
    from tests.report.fixtures import fixed_run

    east = replace(fixed_run(), run_id="east", sources={"jobs": 5, "events": 4})
    west = replace(
        fixed_run(),
        run_id="west",
        started_at="2026-11-25T01:00:00Z",
        sources={"csv": 9},
        results=tuple(replace(r, job_id=f"w-{r.job_id}") for r in fixed_run().results),
    )
    for run in (east, west):
        (tmp_path / f"{run.run_id}.json").write_text("".join(parts(run)))
    done = vod_audit(
        "report",
        "merge",
        str(tmp_path / "east.json"),
        str(tmp_path / "west.json"),
        "--out",
        str(tmp_path / "m"),
    )
    assert done.returncode in (0, 2), done.stderr
    merged = json.loads((tmp_path / "m" / "results.json").read_text())
    assert merged["sources"] == {"jobs": 5, "events": 4, "csv": 9}
    assert len(merged["discovery"]) == len(east.discovery) + len(west.discovery) > 0
    evidence = json.loads((tmp_path / "m" / "evidence.json").read_text())
    assert evidence["sources"] == {"jobs": 5, "events": 4, "csv": 9}


# 21. A cached manifest's url_file reaches the secret after a Kubernetes-style rotation.
def test_a_rotated_mounted_secret_is_read_through_its_link_from_a_cached_manifest(tmp_path, monkeypatch):
    import os

    from tests.notify.receiver import receiver
    from tests.notify.test_run_notify import setup
    from tests.run.helpers import EMULATOR_ENV, clean_env

    secrets = tmp_path / "secrets"
    (secrets / "..v1").mkdir(parents=True)
    with receiver() as got:
        (secrets / "..v1" / "url").write_text(f"{got.url}/hooks/old\n")
        os.symlink("..v1", secrets / "..data")
        os.symlink("..data/url", secrets / "url")
        channel = {"name": "archive", "type": "slack", "url_file": "secrets/url", "on": "always"}
        manifest, data = setup(tmp_path, monkeypatch, got.url, notify=[channel])
        args = emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db")
        env = clean_env(**EMULATOR_ENV)
        assert cli(*args, env=env).returncode == 2
        (secrets / "..v2").mkdir()
        (secrets / "..v2" / "url").write_text(f"{got.url}/hooks/new\n")
        os.symlink("..v2", secrets / "..tmp")
        os.replace(secrets / "..tmp", secrets / "..data")  # the kubelet's atomic swap
        (secrets / "..v1" / "url").unlink()
        (secrets / "..v1").rmdir()
        done = cli(*args, env=env)
        paths = [r.path for r in got.requests]
    assert done.returncode == 2 and "notify archive (slack, on always): sent" in done.stdout, done.stdout
    assert paths == ["/hooks/old", "/hooks/new"]


# 4. A job listed in jobs: and named by an event is no lost callback when discovery lists it.
def test_a_listed_job_that_an_event_named_is_not_a_missed_event(tmp_path):
    body = next(b for b in sample_jobs() if b["JobType"] == "transcode")
    other = json.loads(json.dumps(body))  # a second job of the media, named by an event only
    other["TranscodeJobDetail"]["JobId"] = "0ther000000000000000000000000000"
    detail = body["TranscodeJobDetail"]
    data = write_data(tmp_path / "data.json", [body, other])
    lines = [
        {
            "EventType": "StreamTranscodeComplete",
            "JobId": job_id,
            "VideoId": detail["VideoId"],
            "Status": "success",
        }
        for job_id in (detail["JobId"], other["TranscodeJobDetail"]["JobId"])
    ]
    (tmp_path / "events.jsonl").write_text("".join(json.dumps(line) + "\n" for line in lines))
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "jobs": [{"id": detail["JobId"], "type": "transcode"}],
                "jobs_from": [
                    {"events": "events.jsonl"},
                    {"media": {"media_ids": [detail["VideoId"]], "types": ["transcode"]}},
                ],
            },
            sort_keys=False,
        )
    )
    out = tmp_path / "out"
    done = cli(*emulated_args(manifest, data, out, tmp_path / "s.db", "--no-progress"))
    assert done.returncode == 0, done.stdout + done.stderr
    kinds = [
        f["kind"] for r in json.loads((out / "results.json").read_text())["results"] for f in r["findings"]
    ]
    assert "missed_event" not in kinds


# 6. While a channel waits out a Retry-After, SIGTERM ends the wait; the set is written before it.
def test_sigterm_while_a_receiver_asks_to_wait_keeps_the_reports(tmp_path, monkeypatch):
    import signal
    import subprocess
    import sys
    import time

    from tests.notify.receiver import receiver
    from tests.run.helpers import ROOT

    with receiver() as got:
        got.answers = [(503, b"", {"Retry-After": "25"})]
        manifest, data, env = _notified(tmp_path, monkeypatch, got.url)
        out = tmp_path / "out"
        process = subprocess.Popen(
            [sys.executable, "-m", "audit", *emulated_args(manifest, data, out, tmp_path / "s.db")],
            env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 120
        while not got.requests and time.monotonic() < deadline:  # the readiness signal: a first POST
            assert process.poll() is None, process.communicate()
            time.sleep(0.05)
        assert (out / "results.json").exists()  # written before any channel was told
        process.send_signal(signal.SIGTERM)
        stdout, _ = process.communicate(timeout=20)  # not the 3 × 25 s the receiver asked for
    assert "the run was told to stop" in stdout
    assert json.loads((out / "results.json").read_text())["verdict"] == "FAIL"


# 16. A set that cannot be written: each channel hears of the run once, and no link to a set that
# was never written.
def test_a_set_that_cannot_be_written_is_told_once_without_a_link(tmp_path, monkeypatch):
    import resource
    import subprocess
    import sys

    from tests.notify.receiver import receiver
    from tests.notify.test_run_notify import channels, secrets
    from tests.reliability.test_operator_faults import demo
    from tests.run.helpers import ROOT, clean_env

    manifest, data = demo(tmp_path, 200)  # results.json past the limit below; the rest within it
    with receiver() as got:
        document = yaml.safe_load(manifest.read_text())
        manifest.write_text(yaml.safe_dump({**document, "notify": channels()}, sort_keys=False))
        env = clean_env(**secrets(got.url))
        args = emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db")
        assert cli(*args, env=env).returncode in (0, 2, 3)  # the state made, at its size
        got.requests.clear()
        done = subprocess.run(
            [sys.executable, "-m", "audit", *args], env=env, cwd=ROOT, capture_output=True, text=True,
            timeout=180, preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_FSIZE, (96 << 10, 96 << 10)),
        )  # fmt: skip
        bodies = [json.loads(r.body) for r in got.requests]
    assert done.returncode == 1 and "report" in done.stderr, done.stderr
    assert [b["verdict"] for b in bodies] == ["FAILED"]  # the archive channel (on: always), once
    assert bodies[0].get("report_url") is None


# 22. A stale cache or judgement is never why two runs of the same inputs disagree: each manifest
# run fresh, then from its cache (each on a new state), gives the same results.json less times and ids.
VARYING = {
    "run_id",
    "out",
    "started_at",
    "finished_at",
    "fetched_at",
    "request_id",
    "RequestId",
    "endpoint",
    "state",
}


def _comparable(value):
    if isinstance(value, dict):
        return {k: _comparable(v) for k, v in value.items() if k not in VARYING}
    if isinstance(value, list):
        return [_comparable(v) for v in value]
    if isinstance(value, str):  # the emulator's times follow the clock: each run's are its own
        return re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<time>", value)
    return value


@pytest.mark.parametrize("name", ["demo.yaml", "demo-events.yaml", "rich.yaml"])
def test_a_manifest_run_fresh_and_from_its_cache_gives_the_same_results(tmp_path, name):
    import shutil

    from tests.manifest.test_cache import RICH
    from tests.run.helpers import ROOT

    folder = tmp_path / "manifests"
    shutil.copytree(ROOT / "examples", folder, ignore=shutil.ignore_patterns(".vod-audit"))
    (folder / "rich.yaml").write_text(RICH)
    (folder / "more.yaml").write_text(
        "jobs:\n  - {id: t2, type: transcode, expect: {Status: {absent: true}}}\n"
    )
    (folder / "list.csv").write_text("id,type,Status\nt3,transcode,TranscodeFail\n")
    documents = []
    for night in ("fresh", "cached"):
        out = tmp_path / night
        args = ("run", str(folder / name), "--emulator", str(folder / "demo-data.yaml"), "--out", str(out))
        done = cli(*args, "--state", str(tmp_path / f"{night}.db"), "--no-progress", env=_env_team())
        assert done.returncode in (0, 2), done.stderr
        documents.append(_comparable(json.loads((out / "results.json").read_text())))
    cached = list((folder / ".vod-audit" / "manifests").glob("*.json"))
    assert cached or name == "demo-events.yaml"  # an event file's manifest is never cached (a glob)
    assert documents[0] == documents[1]


def _env_team():
    from tests.run.helpers import EMULATOR_ENV, clean_env

    return clean_env(TEAM="video", **EMULATOR_ENV)
