"""Issue #40: what a successful transcode job produced, asked of GetPlayInfo and GetMezzanineInfo."""

from __future__ import annotations

from datetime import timedelta

import pytest
import yaml

from audit.common.timeutil import format_utc
from tests.bodies import body
from tests.conftest import created
from tests.run.helpers import cli, results, run_args

pytestmark = pytest.mark.slow

MEDIA = {name: f"{n:x}".rjust(32, "a") for n, name in enumerate(("whole", "deleted", "short", "failed"), 1)}


def transcode(job_id: str, media: str, status: str = "TranscodeSuccess", definition: str = "SD") -> dict:
    done = format_utc(created() + timedelta(seconds=40))
    document = body("transcode", JobId=job_id, VideoId=media, Status=status, Definition=definition,
                    CreateTime=format_utc(created()), CompleteTime=done)  # fmt: skip
    document.pop("RequestId")
    return document


def dataset(tmp_path):
    jobs = [transcode(f"{n:x}".rjust(32, "b"), media, "TranscodeFail" if name == "failed" else "TranscodeSuccess")
            for n, (name, media) in enumerate(MEDIA.items(), 1)]  # fmt: skip
    short = jobs[2]["TranscodeJobDetail"]["JobId"]
    media = [
        {"MediaId": MEDIA["deleted"], "PlayInfos": []},  # the stream is gone tonight
        {"MediaId": MEDIA["short"], "Duration": 60, "PlayInfos": [
            {"JobId": short, "Status": "Normal", "Format": "m3u8", "Definition": "SD", "Duration": "10.000",
             "Height": 720, "Width": 1280, "Bitrate": "1500.0"}]},  # 10 s from a 60 s source
    ]  # fmt: skip
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "defaults": {"transcode": {"Status": "TranscodeSuccess",
                                           "output": {"Status": "Normal", "duration_within": "2s"}}},
                "jobs": [{"id": j["TranscodeJobDetail"]["JobId"], "type": "transcode"} for j in jobs],
            },
            sort_keys=False,
        )
    )  # fmt: skip
    return jobs, media, manifest


def test_a_deleted_or_short_stream_is_drift_and_a_failed_job_is_not_output_checked(start_emulator, tmp_path):
    jobs, media, manifest = dataset(tmp_path)
    emulator = start_emulator(jobs=jobs, media=media, qps=0)
    out = tmp_path / "out"
    state = tmp_path / "s.db"
    done = cli(*run_args(manifest, out, emulator.url, state=state))
    assert done.returncode == 2, done.stderr
    by_id = {r["job_id"]: r for r in results(out)["results"]}
    ids = {name: jobs[n]["TranscodeJobDetail"]["JobId"] for n, name in enumerate(MEDIA)}
    assert by_id[ids["whole"]]["outcome"] == "ok"
    assert [(f["kind"], f["field"]) for f in by_id[ids["deleted"]]["findings"]] == [
        ("output", "output.exists")
    ]
    assert [(f["kind"], f["field"]) for f in by_id[ids["short"]]["findings"]] == [
        ("output", "output.Duration")
    ]
    assert [f["kind"] for f in by_id[ids["failed"]]["findings"]] == ["mismatch"]  # its status says it
    assert {by_id[ids[n]]["outcome"] for n in ("deleted", "short", "failed")} == {"drift"}
    operations = emulator.counters.snapshot()["by_operation"]
    played = sum(n for account in operations["GetPlayInfo"].values() for n in account.values())
    sourced = sum(n for account in operations["GetMezzanineInfo"].values() for n in account.values())
    assert (played, sourced) == (3, 3)  # once per media of a successful job, not per job
    again = cli(*run_args(manifest, tmp_path / "night-2", emulator.url, state=state))
    assert again.returncode == 2
    night_2 = {r["job_id"]: r for r in results(tmp_path / "night-2")["results"]}
    operations = emulator.counters.snapshot()["by_operation"]
    # Nothing of GetJobDetail asked again (every answer was final), the streams asked again: tonight's.
    assert sum(n for account in operations["GetPlayInfo"].values() for n in account.values()) == 6
    assert night_2[ids["deleted"]]["change"] == "ongoing" and night_2[ids["short"]]["change"] == "ongoing"


def test_the_plan_counts_the_output_calls_the_run_makes(start_emulator, tmp_path):
    from tests.plan.test_plan_is_what_runs import made, planned

    jobs, media, manifest = dataset(tmp_path)
    emulator = start_emulator(jobs=jobs, media=media, qps=0)
    state = tmp_path / "s.db"
    plans = []
    for night in (1, 2):
        plan = planned(str(manifest), "--endpoint", emulator.url, "--state", str(state))
        out = tmp_path / f"night-{night}"
        assert cli(*run_args(manifest, out, emulator.url, state=state)).returncode == 2
        plans.append((plan, made(out)))
    (first, ran_first), (second, ran_second) = plans
    # Night 1: no answer is known, so the media are not: the plan says how many jobs may add a call.
    assert first["outputs_not_counted"] == 4 and first["calls"]["GetPlayInfo"] == 0
    assert ran_first["GetPlayInfo"] == 3 and ran_first["GetJobDetail"] == 4
    # Night 2: every answer is final and reused: the plan names the calls, and the run makes them.
    assert second["outputs_not_counted"] == 0
    assert second["calls"] == ran_second == {
        "GetJobDetail": 0, "SearchMedia": 0, "ListJobInfo": 0, "GetPlayInfo": 3, "GetMezzanineInfo": 3,
    }  # fmt: skip


@pytest.mark.parametrize(
    ("streams", "kind"),
    [
        (
            [{"JobId": f"{n:032x}", "Status": "Normal"} for n in range(100_000)],
            "error",
        ),  # over the body limit
        ([{"JobId": f"{n:032x}", "Status": "Normal"} for n in range(2_000)], "output"),  # none of the job
        (
            [{"JobId": "{job}\n", "Status": "Normal", "Duration": "60.0"}],
            "output",
        ),  # a line break: another id
    ],
    ids=["100000 streams", "2000 others", "line break"],
)
def test_hostile_stream_lists_through_the_real_path_are_never_ok(start_emulator, tmp_path, streams, kind):
    jobs, _, manifest = dataset(tmp_path)
    whole = jobs[0]["TranscodeJobDetail"]
    listed = [{**s, "JobId": s["JobId"].replace("{job}", whole["JobId"])} for s in streams]
    emulator = start_emulator(
        jobs=jobs[:1], media=[{"MediaId": whole["VideoId"], "PlayInfos": listed}], qps=0
    )
    manifest.write_text(
        manifest.read_text().split("jobs:")[0] + f"jobs:\n- {{id: {whole['JobId']}, type: transcode}}\n"
    )
    done = cli(*run_args(manifest, tmp_path / "out", emulator.url, "--retries", "0"))
    # An output that could not be checked is an error (exit 3); one the list does not hold, drift (2).
    assert done.returncode == (3 if kind == "error" else 2) and "internal error" not in done.stderr, (
        done.stderr
    )
    [result] = results(tmp_path / "out")["results"]
    assert result["outcome"] in ("drift", "error") and [f["kind"] for f in result["findings"]] == [kind]
