"""The expectation engine: every outcome of the manifest page's outcome table (docs/manifest.md), the overdue rule with a fixed now, and fuzzing."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.common.findings import Outcome
from audit.expect.engine import Verdict, failed, judge
from audit.manifest import matchers
from audit.manifest.model import JobSpec
from audit.manifest.positions import Position
from tests.bodies import body

NOW = datetime(2024, 10, 14, 9, 0, 0, tzinfo=UTC)  # 80 minutes after the bodies' CreateTime
HERE = Position("m.yaml", 1, 1)


def spec(job_type="transcode", max_duration=None, min_duration=None, **expect):
    parsed = tuple(
        (
            k,
            matchers.parse(
                v,
                structured=k
                in (
                    "NormalConfig",
                    "SpriteConfig",
                    "TemplateConfig",
                    "TaskInput",
                    "UserData",
                    "ActivityResults",
                    "Workflow",
                ),
            ),
        )
        for k, v in expect.items()
    )
    return JobSpec(job_type, "id", parsed, HERE, max_duration, min_duration)


def outcome(verdict: Verdict):
    return verdict.outcome, [(f.kind, f.field) for f in verdict.findings]


CASES = [
    # ok: finished as expected
    (
        "ok",
        spec(Status="TranscodeSuccess", Definition={"one_of": ["HD"]}, max_duration=60),
        body("transcode"),
        (Outcome.OK, []),
    ),
    ("ok without expectations", spec("ai"), body("ai"), (Outcome.OK, [])),
    # drift: a field mismatch
    (
        "drift status",
        spec(Status="TranscodeSuccess"),
        body("transcode", Status="TranscodeFail"),
        (Outcome.DRIFT, [("mismatch", "Status")]),
    ),
    (
        "drift template",
        spec(TemplateId="other"),
        body("transcode"),
        (Outcome.DRIFT, [("mismatch", "TemplateId")]),
    ),
    (
        "drift in JSON string",
        spec("snapshot", NormalConfig={"num": 16}),
        body("snapshot"),
        (Outcome.DRIFT, [("mismatch", "NormalConfig.num")]),
    ),
    (
        "drift contains",
        spec("ai", TemplateConfig={"AuditItem": {"contains": ["ad"]}}),
        body("ai"),
        (Outcome.DRIFT, [("mismatch", "TemplateConfig.AuditItem")]),
    ),
    (
        "drift absent field",
        spec("transcode", Definition={"present": True}),
        body("transcode", Definition=...),
        (Outcome.DRIFT, [("mismatch", "Definition")]),
    ),
    (
        "drift nested object",
        spec("workflow", Workflow={"Status": "Inactive"}),
        body("workflow"),
        (Outcome.DRIFT, [("mismatch", "Workflow.Status")]),
    ),
    # duration bounds on a finished job (CompleteTime - CreateTime = 9 s)
    ("too slow", spec(max_duration=5), body("transcode"), (Outcome.DRIFT, [("duration", "max_duration")])),
    ("too fast", spec(min_duration=60), body("transcode"), (Outcome.DRIFT, [("duration", "min_duration")])),
    (
        "workflow uses FinishTime",
        spec("workflow", max_duration=60),
        body("workflow"),
        (Outcome.DRIFT, [("duration", "max_duration")]),
    ),
    # pending: not terminal, within budget or no budget
    (
        "pending within budget",
        spec(Status="TranscodeSuccess", max_duration=7200),
        body("transcode", Status="Transcoding", CompleteTime=...),
        (Outcome.PENDING, []),
    ),
    (
        "pending without budget",
        spec(Status="TranscodeSuccess"),
        body("transcode", Status="Transcoding", CompleteTime=...),
        (Outcome.PENDING, []),
    ),
    (
        "pending snapshot",
        spec("snapshot", Status="Success"),
        body("snapshot", Status="Processing", CompleteTime=...),
        (Outcome.PENDING, []),
    ),
    # overdue: not terminal and older than max_duration at NOW
    (
        "overdue",
        spec(Status="TranscodeSuccess", max_duration=3600),
        body("transcode", Status="Transcoding", CompleteTime=...),
        (Outcome.DRIFT, [("duration", "max_duration")]),
    ),
    (
        "running with wrong template",
        spec(TemplateId="other", max_duration=7200),
        body("transcode", Status="Transcoding", CompleteTime=...),
        (Outcome.DRIFT, [("mismatch", "TemplateId")]),
    ),
    # invalid: the response breaks the schema (and drift findings still listed)
    (
        "invalid time",
        spec("ai"),
        body("ai", CompleteTime="2024-10-14T07:39:46Z\n"),
        (Outcome.INVALID, [("schema", "/AIJobDetail/CompleteTime")]),
    ),
    (
        "invalid and drifting",
        spec(Status="TranscodeSuccess"),
        body("transcode", Status="TranscodeFail", UserId="x"),
        (Outcome.INVALID, [("schema", "/TranscodeJobDetail/UserId"), ("mismatch", "Status")]),
    ),
    # not_found: no detail object
    (
        "not found",
        spec(),
        {"RequestId": "r", "JobType": "transcode"},
        (Outcome.NOT_FOUND, [("not_found", "JobId")]),
    ),
    ("not found, wrong object", spec("ai"), body("transcode"), (Outcome.NOT_FOUND, [("not_found", "JobId")])),
]


@pytest.mark.parametrize(("name", "job", "response", "expected"), CASES, ids=[c[0] for c in CASES])
def test_outcomes(name, job, response, expected):
    assert outcome(judge(job, response, NOW)) == expected


def test_error_and_not_found_from_failed_calls():
    assert outcome(failed("HTTP 503 ServiceUnAvailable")) == (Outcome.ERROR, [("error", "")])
    assert outcome(failed("InvalidParameter JobId", not_found=True)) == (
        Outcome.NOT_FOUND,
        [("not_found", "JobId")],
    )


def test_outcomes_are_ranked_worst_first():
    assert [o.value for o in sorted(Outcome, key=lambda o: o.rank)] == [
        "error",
        "not_found",
        "invalid",
        "drift",
        "pending",
        "waived",
        "ok",
    ]


def test_findings_read_as_sentences():
    verdict = judge(
        spec(Status="TranscodeSuccess", max_duration=3600),
        body("transcode", Status="Transcoding", CompleteTime=...),
        NOW,
    )
    assert verdict.findings[0].message == "overdue: still Transcoding after 1h20m, max_duration 1h"
    verdict = judge(spec(Definition={"one_of": ["FHD", "4K"]}), body("transcode"), NOW)
    finding = verdict.findings[0]
    assert (finding.expected, finding.actual, finding.message) == (
        'one of "FHD", "4K"',
        '"HD"',
        'Definition is "HD", expected one of "FHD", "4K"',
    )


def test_duration_and_status_are_reported():
    verdict = judge(spec(), body("transcode"), NOW)
    assert (verdict.duration, verdict.status, verdict.terminal) == (9.0, "TranscodeSuccess", True)
    running = judge(spec(), body("transcode", Status="Transcoding", CompleteTime=...), NOW)
    assert (running.duration, running.terminal) == (None, False)


def test_a_failed_job_without_completion_time_is_judged_with_a_warning_beside():
    verdict = judge(
        spec(Status="TranscodeSuccess"), body("transcode", Status="TranscodeFail", CompleteTime=...), NOW
    )
    assert verdict.outcome is Outcome.DRIFT
    assert [(f.kind, f.field, f.severity) for f in verdict.findings] == [
        ("schema", "/TranscodeJobDetail", "warning"),
        ("mismatch", "Status", "error"),
    ]
    strict = judge(
        spec(Status="TranscodeSuccess"),
        body("transcode", Status="TranscodeFail", CompleteTime=...),
        NOW,
        strict=True,
    )
    assert strict.outcome is Outcome.INVALID and len(strict.findings) == 2


def test_a_missing_field_named_by_an_expectation_is_said_to_be_missing():
    verdict = judge(spec(TemplateId="dbf"), body("transcode", TemplateId=...), NOW)
    finding = verdict.findings[0]
    assert (finding.field, finding.actual, finding.message) == (
        "TemplateId",
        "missing",
        'TemplateId is missing, expected "dbf"',
    )


def test_unknown_fields_are_notes_unless_strict():
    lenient = judge(spec(), body("transcode", Bitrate=1), NOW)
    assert lenient.outcome is Outcome.OK and [n.pointer for n in lenient.notes] == [
        "/TranscodeJobDetail/Bitrate"
    ]
    assert judge(spec(), body("transcode", Bitrate=1), NOW, strict=True).outcome is Outcome.INVALID


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=10), c, max_size=5),
    max_leaves=20,
)
detail_fields = st.dictionaries(
    st.sampled_from(
        [
            "Status",
            "CreateTime",
            "CompleteTime",
            "FinishTime",
            "TemplateConfig",
            "NormalConfig",
            "Workflow",
            "JobId",
            "TaskId",
            "Definition",
        ]
    ),
    json_values
    | st.sampled_from(["TranscodeSuccess", "Transcoding", "Succeed", "2024-10-14T07:39:25Z", "{}", "[]"]),
    max_size=6,
)


@settings(max_examples=400, deadline=None, derandomize=True)
@given(
    st.sampled_from(["transcode", "snapshot", "ai", "workflow"]), json_values | detail_fields, st.booleans()
)
def test_engine_never_raises(job_type, detail, wrap):
    job = spec(
        job_type,
        max_duration=60,
        min_duration=1,
        **({"Workflow": {"Status": "Active"}} if job_type == "workflow" else {}),
    )
    name = {
        "transcode": "TranscodeJobDetail",
        "snapshot": "SnapshotJobDetail",
        "ai": "AIJobDetail",
        "workflow": "WorkflowTaskDetail",
    }[job_type]
    response = {"RequestId": "r", "JobType": job_type, name: detail} if wrap else detail
    verdict = judge(job, response, NOW)
    assert isinstance(verdict.outcome, Outcome)
    # A rule of ours never makes a job invalid outside --strict: only a stated one can.
    if verdict.outcome is Outcome.INVALID:
        assert any(f.kind == "schema" and f.counts for f in verdict.findings)
    from audit.schema.validate import validate_response

    for violation in validate_response(response):
        assert (
            violation.severity != "violation" or violation.evidence != "inferred" or violation.rule == "depth"
        )
    assert all(isinstance(f.message, str) for f in verdict.findings)
