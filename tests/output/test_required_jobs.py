"""Issue #40's acceptance: six media, what success produced and which jobs every media must have."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from audit.common.timeutil import format_utc
from tests.bodies import body
from tests.conftest import created
from tests.plan.test_plan_is_what_runs import made, planned
from tests.run.helpers import cli, results, run_args

pytestmark = pytest.mark.slow

NAMES = ("whole", "deleted", "short", "no-sd", "no-snapshot", "failed")
MEDIA = {name: f"{n:x}".rjust(32, "c") for n, name in enumerate(NAMES, 1)}


def job(kind: str, number: int, media: str, **detail: str) -> dict:
    document = body(kind, JobId=f"{number:x}".rjust(32, "d"), VideoId=media, CreateTime=format_utc(created()),
                    CompleteTime=format_utc(created() + timedelta(seconds=40)), **detail)  # fmt: skip
    document.pop("RequestId")
    return document


def six_media() -> tuple[list[dict], list[dict]]:
    jobs, number = [], 0
    for name, media in MEDIA.items():
        kinds = [
            ("transcode", {"Status": "TranscodeSuccess", "Definition": "HD" if name == "no-sd" else "SD"})
        ]
        if name == "failed":  # a failed transcode, and the SD rendition that succeeded after it
            kinds.insert(0, ("transcode", {"Status": "TranscodeFail", "Definition": "SD"}))
        if name != "no-snapshot":
            kinds.append(("snapshot", {"Status": "Success"}))
        for kind, detail in kinds:
            number += 1
            jobs.append(job(kind, number, media, **detail))
    short = next(j for j in jobs if j.get("TranscodeJobDetail", {}).get("VideoId") == MEDIA["short"])
    media = [
        {"MediaId": MEDIA["deleted"], "PlayInfos": []},
        {"MediaId": MEDIA["short"], "Duration": 60, "PlayInfos": [
            {"JobId": short["TranscodeJobDetail"]["JobId"], "Status": "Normal", "Format": "m3u8",
             "Definition": "SD", "Duration": "10.0"}]},
    ]  # fmt: skip
    return jobs, media


def manifest(tmp_path, waivers: list[dict] | None = None):
    path = tmp_path / "nightly.yaml"
    document = {
        "version": 1,
        "name": "renditions",
        "defaults": {
            "transcode": {"Status": "TranscodeSuccess", "output": {"Status": "Normal", "duration_within": "2s"}},
            "snapshot": {"Status": "Success"},
        },
        "jobs_from": [{"media": {"since": "7d", "types": ["transcode", "snapshot"],
                                 "require": {"transcode": {"Definition": ["SD"]}, "snapshot": 1}}}],
        **({"waivers": waivers} if waivers else {}),
    }  # fmt: skip
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def findings(out) -> set[tuple[str, str, str, str]]:
    return {
        (r["job_type"], r["job_id"], f["kind"], f["field"])
        for r in results(out)["results"]
        for f in r["findings"]
    }


def test_six_media_give_exactly_the_four_findings_and_the_failed_status(start_emulator, tmp_path):
    jobs, media = six_media()
    emulator = start_emulator(jobs=jobs, media=media, qps=0)
    state = tmp_path / "s.db"
    plan = planned(str(manifest(tmp_path)), "--endpoint", emulator.url, "--state", str(state), "--discover")
    night_1 = cli(*run_args(manifest(tmp_path), tmp_path / "n1", emulator.url, state=state))
    assert night_1.returncode == 2, night_1.stderr
    failed = next(
        j["TranscodeJobDetail"]["JobId"]
        for j in jobs
        if j.get("TranscodeJobDetail", {}).get("Status") == "TranscodeFail"
    )
    deleted, short = (
        next(j["TranscodeJobDetail"]["JobId"] for j in jobs if j.get("TranscodeJobDetail", {}).get("VideoId") == MEDIA[n])
        for n in ("deleted", "short")
    )  # fmt: skip
    assert findings(tmp_path / "n1") == {
        ("transcode", deleted, "output", "output.exists"),
        ("transcode", short, "output", "output.Duration"),
        ("media", MEDIA["no-sd"], "missing_job", "require.transcode.SD"),
        ("media", MEDIA["no-snapshot"], "missing_job", "require.snapshot"),
        ("transcode", failed, "mismatch", "Status"),
    }
    # What discovery listed (media, Status) tells the plan the output calls of the first night too.
    assert plan["outputs_not_counted"] == 0 and plan["calls"] == made(tmp_path / "n1")
    assert plan["calls"]["GetPlayInfo"] == 6  # every media has a successful transcode job
    document = results(tmp_path / "n1")
    media_results = [r for r in document["results"] if r["job_type"] == "media"]
    # Each at the media source's line in the manifest (SARIF places its findings there too).
    sources = {r["source"] for r in media_results}
    assert (
        len(media_results) == 6
        and len(sources) == 1
        and sources.pop().startswith(f"{tmp_path / 'nightly.yaml'}:")
    )
    assert {r["job_id"]: r["outcome"] for r in media_results}[MEDIA["whole"]] == "ok"
    sarif = (tmp_path / "n1" / "results.sarif").read_text()
    assert MEDIA["no-sd"] in sarif and "missing_job" in sarif
    rendered = cli("report", str(tmp_path / "n1" / "results.json"), "--out", str(tmp_path / "again"))
    assert rendered.returncode == 0, rendered.stderr  # a media's result reads back like a job's
    assert MEDIA["no-snapshot"] in (tmp_path / "again" / "report.html").read_text()
    # Night 2: the same findings, ongoing; a waiver on one media waives it.
    waiver = {"job": MEDIA["no-snapshot"], "type": "media", "field": "require.snapshot",
              "reason": "snapshots were switched off for this category", "expires": "2099-12-31"}  # fmt: skip
    night_2 = cli(*run_args(manifest(tmp_path, [waiver]), tmp_path / "n2", emulator.url, state=state))
    assert night_2.returncode == 2, night_2.stderr
    second = {(r["job_type"], r["job_id"]): r for r in results(tmp_path / "n2")["results"]}
    assert {second[("media", MEDIA["no-sd"])]["change"], second[("transcode", short)]["change"]} == {
        "ongoing"
    }
    assert second[("media", MEDIA["no-snapshot"])]["outcome"] == "waived"
