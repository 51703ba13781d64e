"""Issue #40: the output judgement on hostile and ordinary GetPlayInfo answers (pure, fast)."""

from __future__ import annotations

import pytest

from audit.expect.output import Played, judge_output, read_play_info, read_source_seconds
from audit.manifest.outputs import OutputCheck, parse_output

JOB, MEDIA = "b" * 32, "a" * 32


def answer(*streams: dict, media: str = MEDIA) -> dict:
    return {"RequestId": "r", "VideoBase": {"VideoId": media}, "PlayInfoList": {"PlayInfo": list(streams)}}


def stream(**fields: object) -> dict:
    return {"JobId": JOB, "Status": "Normal", "Format": "m3u8", "Definition": "SD", "Duration": "60.0",
            "Height": 720, "Width": 1280, "Bitrate": "1500.0", **fields}  # fmt: skip


CHECK, _ = parse_output({"Status": "Normal", "Format": ["m3u8", "mp4"], "Definition": "SD",
                         "Height": {"min": 480, "max": 720}, "Bitrate": {"max": 2000}, "duration_within": "2s"})  # fmt: skip


def fields(found):
    return [(f.kind, f.field) for f in found]


def test_a_stream_that_meets_every_part_has_no_finding_and_each_part_can_fail():
    assert judge_output(JOB, MEDIA, CHECK, read_play_info(answer(stream()), MEDIA), 60.5) == ()
    cases = {
        "output.Status": stream(Status="Invisible"),
        "output.Format": stream(Format="flv"),
        "output.Definition": stream(Definition="LD"),
        "output.Height": stream(Height="1080"),
        "output.Bitrate": stream(Bitrate="2500.5"),
        "output.Duration": stream(Duration="10.0"),
    }
    for field, given in cases.items():
        assert fields(judge_output(JOB, MEDIA, CHECK, read_play_info(answer(given), MEDIA), 60.0)) == [
            ("output", field)
        ]


def test_a_share_of_the_source_and_the_closest_of_several_streams():
    share, _ = parse_output({"duration_within": "5%"})
    assert share is not None and share.within_share == 0.05
    assert judge_output(JOB, MEDIA, share, read_play_info(answer(stream(Duration="57.5")), MEDIA), 60.0) == ()
    assert fields(
        judge_output(JOB, MEDIA, share, read_play_info(answer(stream(Duration="56.9")), MEDIA), 60.0)
    )
    both = answer(stream(Duration="5.0"), stream(Duration="59.9"))  # one good stream of the job is enough
    assert judge_output(JOB, MEDIA, share, read_play_info(both, MEDIA), 60.0) == ()


@pytest.mark.parametrize(
    ("body", "kind"),
    [
        (answer(stream(), media="c" * 32), "error"),  # another media's streams
        ({"RequestId": "r", "VideoBase": {"VideoId": MEDIA}}, "error"),  # no PlayInfoList
        ({"RequestId": "r", "PlayInfoList": {"PlayInfo": "none"}}, "error"),
        ([1, 2], "error"),
        (answer(stream(JobId=JOB + "\n")), "output"),  # a JobId with a line break is another job's
        (answer(*[stream(JobId=f"{n:032x}") for n in range(100_000)]), "output"),  # many, none of the job
    ],
)
def test_hostile_answers_are_never_fine_and_never_a_crash(body, kind):
    found = judge_output(JOB, MEDIA, OutputCheck(), read_play_info(body, MEDIA), None)
    assert [f.kind for f in found] == [kind] and all(f.severity == "error" for f in found)


def test_a_media_gone_and_a_source_that_cannot_be_read():
    gone = judge_output(JOB, MEDIA, OutputCheck(), Played(gone="InvalidVideo.NotFound"), None)
    assert fields(gone) == [("output", "output.exists")] and "InvalidVideo.NotFound" in gone[0].message
    unread = read_source_seconds({"Mezzanine": {"VideoId": MEDIA, "Duration": "n/a"}}, MEDIA)
    assert isinstance(unread, str)
    found = judge_output(JOB, MEDIA, CHECK, read_play_info(answer(stream()), MEDIA), unread)
    assert fields(found) == [("error", "output")]
    assert read_source_seconds({"Mezzanine": {"VideoId": MEDIA, "Duration": "42.5"}}, MEDIA) == 42.5
    assert isinstance(read_source_seconds({"Mezzanine": {"VideoId": "x", "Duration": "1"}}, MEDIA), str)


@pytest.mark.parametrize(
    "value",
    [
        {"Colour": "red"},
        {"Height": {"min": 5, "max": 1}},
        {"Height": True},
        {"duration_within": "soon"},
        "yes",
        {"Format": []},
    ],
)
def test_an_output_the_manifest_cannot_mean_is_refused(value):
    check, problems = parse_output(value)
    assert check is None and problems


def test_output_on_another_job_type_is_refused_at_its_line(tmp_path):
    from tests.run.helpers import cli

    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\ndefaults:\n  snapshot:\n    output: {Status: Normal}\n  transcode:\n"
        "    output: {Height: {min: 9, max: 1}}\njobs: []\n"
    )
    done = cli("validate", str(manifest))
    assert done.returncode == 1 and "Traceback" not in done.stdout + done.stderr
    assert f"{manifest}:4:13: output: checks a transcode job's stream; snapshot jobs have none" in done.stdout
    assert f"{manifest}:6:13: output.Height: min 9 is over max 1" in done.stdout


def test_a_require_the_source_cannot_meet_is_refused_at_its_line(tmp_path):
    from tests.run.helpers import cli

    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\njobs_from:\n  - media:\n      since: 1d\n      types: [transcode]\n"
        "      require: {transcode: {Definition: [SD]}, ai: 1}\n"
        "  - media:\n      since: 1d\n      require: {snapshot: 0}\n"
    )
    done = cli("validate", str(manifest))
    assert done.returncode == 1
    assert done.stdout.splitlines() == [
        f"{manifest}:6:52: require: ai jobs are not listed by this source (types: transcode)",
        f"{manifest}:9:27: jobs_from/1/media/require/snapshot must be at least 1, got 0",
        "2 problems found",
    ]


def test_a_run_told_to_stop_asks_no_output_and_leaves_the_unchecked_jobs_out():
    import threading

    from audit.common.findings import Outcome
    from audit.manifest.model import JobSpec
    from audit.manifest.positions import Position
    from audit.results.record import JobResult
    from audit.run.outputs import checked, wants_output

    body = '{"JobType":"transcode","TranscodeJobDetail":{"JobId":"%s","VideoId":"%s","Status":"TranscodeSuccess"}}'
    spec = JobSpec("transcode", JOB, (), Position("m.yaml", 1, 1), output=OutputCheck())
    result = JobResult("transcode", JOB, Outcome.OK, status="TranscodeSuccess", body_json=body % (JOB, MEDIA))
    assert wants_output(spec, result)
    stop = threading.Event()
    stop.set()
    # No lane is reached (none is given), and the job is not passed without its check.
    assert list(checked([result], {spec.ref: spec}, {}, stop)) == []
