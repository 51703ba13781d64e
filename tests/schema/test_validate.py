"""The response schemas: the reference sample, enums, times, cross-field rules, JSON-in-string fields."""

from __future__ import annotations

import pytest

import audit.common.jobtypes as jobtypes
from audit.common.schemafiles import all_schemas, schema_document
from audit.schema.validate import is_valid, validate_response
from tests.bodies import OBJECTS, body, reference_sample


def errors(document, strict=False):
    """Every departure from a rule, violation or warning (notes left out): does the rule fire?"""
    return [
        (v.pointer, v.message) for v in validate_response(document, strict=strict) if v.severity != "note"
    ]


def test_reference_sample_has_exactly_the_trailing_newline_violation():
    violations = validate_response(reference_sample())
    assert [(v.pointer, v.severity) for v in violations] == [("/AIJobDetail/CompleteTime", "violation")]
    assert "YYYY-MM-DDTHH:mm:ssZ" in violations[0].message


@pytest.mark.parametrize("job_type", list(OBJECTS))
def test_valid_body_of_each_type_has_no_violation(job_type):
    assert validate_response(body(job_type)) == ()


def _enum_cases():
    for job_type in OBJECTS:
        properties = jobtypes.job_type(job_type).fields
        for field, spec in properties.items():
            for value in spec.get("enum", []):
                yield job_type, field, value


@pytest.mark.parametrize(("job_type", "field", "value"), list(_enum_cases()))
def test_every_enum_value_is_accepted_and_a_near_miss_is_not(job_type, field, value):
    terminal = sorted(jobtypes.job_type(job_type).terminal)
    document = body(job_type, **{field: value})
    assert errors(document) == [], (field, value)
    if field == "Status" and value not in terminal:
        # A running job may lack a completion time; the rule only binds terminal statuses.
        end = "FinishTime" if job_type == "workflow" else "CompleteTime"
        assert errors(body(job_type, **{field: value, end: ...})) == []
    wrong = body(job_type, **{field: value.lower() + "x"})
    assert errors(wrong) == [(f"/{OBJECTS[job_type]}/{field}", errors(wrong)[0][1])]
    assert "is not one of" in errors(wrong)[0][1]


def test_envelope_job_type_enum():
    for job_type in OBJECTS:
        assert errors(body(job_type)) == []
    document = body("transcode")
    document["JobType"] = "Transcode"
    assert ("/JobType", "'Transcode' is not one of ['transcode', 'snapshot', 'ai', 'workflow']") in errors(
        document
    )


def test_workflow_object_status_enum():
    document = body("workflow")
    document["WorkflowTaskDetail"]["Workflow"]["Status"] = "Gone"
    assert [p for p, _ in errors(document)] == ["/WorkflowTaskDetail/Workflow/Status"]


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("2024-10-14T07:39:34Z", True),
        ("2024-02-29T23:59:59Z", True),
        ("2024-10-14T07:39:34Z\n", False),
        (" 2024-10-14T07:39:34Z", False),
        ("2024-10-14T07:39:34", False),
        ("2024-10-14t07:39:34Z", False),
        ("2024-10-14 07:39:34Z", False),
        ("2024-10-14T07:39:34.123Z", False),
        ("2024-10-14T07:39:34+08:00", False),
        ("2024-13-14T07:39:34Z", False),
        ("2024-10-32T07:39:34Z", False),
        ("2024-10-14T24:00:00Z", False),
        ("", False),
    ],
)
def test_time_format_is_checked_exactly(value, ok):
    document = body("transcode", CompleteTime=value, CreateTime="2024-01-01T00:00:00Z")
    assert (errors(document) == []) is ok
    if not ok:
        assert errors(document)[0][0] == "/TranscodeJobDetail/CompleteTime"


def test_time_of_wrong_type():
    assert [p for p, _ in errors(body("snapshot", CreateTime=1728891565))] == [
        "/SnapshotJobDetail/CreateTime"
    ]


def test_user_id_is_an_integer():
    assert [p for p, _ in errors(body("transcode", UserId="139109"))] == ["/TranscodeJobDetail/UserId"]
    assert [p for p, _ in errors(body("ai", UserId=1.5))] == ["/AIJobDetail/UserId"]
    assert errors(body("ai", UserId=0)) == []


@pytest.mark.parametrize(
    ("job_type", "end"), [(t, "FinishTime" if t == "workflow" else "CompleteTime") for t in OBJECTS]
)
def test_completion_not_before_creation(job_type, end):
    document = body(job_type, CreateTime="2024-10-14T07:39:25Z", **{end: "2024-10-14T07:39:24Z"})
    assert errors(document) == [
        (
            f"/{OBJECTS[job_type]}/{end}",
            f"{end} 2024-10-14T07:39:24Z is before CreateTime 2024-10-14T07:39:25Z",
        )
    ]
    assert errors(body(job_type, CreateTime="2024-10-14T07:39:25Z", **{end: "2024-10-14T07:39:25Z"})) == []


def test_workflow_modified_not_before_created():
    document = body("workflow")
    document["WorkflowTaskDetail"]["Workflow"]["ModifiedTime"] = "2024-09-01T00:00:00Z"
    assert [p for p, _ in errors(document)] == ["/WorkflowTaskDetail/Workflow/ModifiedTime"]


@pytest.mark.parametrize("job_type", list(OBJECTS))
def test_terminal_status_requires_completion_time(job_type):
    end = "FinishTime" if job_type == "workflow" else "CompleteTime"
    for status in sorted(jobtypes.job_type(job_type).terminal):
        document = body(job_type, Status=status, **{end: ...})
        assert errors(document) == [(f"/{OBJECTS[job_type]}", f"'{end}' is a required property")]


@pytest.mark.parametrize("job_type", list(OBJECTS))
def test_job_type_requires_its_detail_object(job_type):
    document = body(job_type)
    del document[OBJECTS[job_type]]
    assert errors(document) == [("", f"'{OBJECTS[job_type]}' is a required property")]


@pytest.mark.parametrize(
    ("job_type", "field"),
    [
        ("snapshot", "NormalConfig"),
        ("snapshot", "SpriteConfig"),
        ("ai", "TemplateConfig"),
        ("workflow", "TaskInput"),
        ("workflow", "UserData"),
        ("workflow", "ActivityResults"),
    ],
)
def test_json_in_string_that_does_not_parse(job_type, field):
    found = errors(body(job_type, **{field: '{"num": 3'}))
    assert len(found) == 1
    assert found[0][0] == f"/{OBJECTS[job_type]}/{field}"
    assert found[0][1].startswith("is not valid JSON")


@pytest.mark.parametrize(
    ("job_type", "field", "value", "inner"),
    [
        ("snapshot", "NormalConfig", '["num", 32]', "is not of type 'object'"),
        ("snapshot", "NormalConfig", '{"num": "many"}', "at /num"),
        ("snapshot", "SpriteConfig", '{"ikcp": "maybe"}', "at /ikcp"),
        ("ai", "TemplateConfig", '{"AuditItem": "porn"}', "at /AuditItem"),
        ("ai", "TemplateConfig", '{"AuditAutoBlock": "sometimes"}', "at /AuditAutoBlock"),
        ("workflow", "TaskInput", "[1, 2]", "is not of type 'object'"),
        ("workflow", "UserData", '"text"', "is not of type 'object'"),
        ("workflow", "ActivityResults", "42", "is not of type 'object'"),
    ],
)
def test_json_in_string_of_the_wrong_shape(job_type, field, value, inner):
    found = errors(body(job_type, **{field: value}))
    assert len(found) == 1
    assert found[0][0] == f"/{OBJECTS[job_type]}/{field}"
    assert inner in found[0][1]


def test_unknown_fields_are_notes_unless_strict():
    document = body("transcode", Bitrate=3000)
    document["NewTopLevel"] = True
    relaxed = validate_response(document)
    assert {(v.pointer, v.severity) for v in relaxed} == {
        ("/TranscodeJobDetail/Bitrate", "note"),
        ("/NewTopLevel", "note"),
    }
    assert is_valid(relaxed)
    strict = validate_response(document, strict=True)
    assert {(v.pointer, v.severity) for v in strict} == {
        ("/TranscodeJobDetail/Bitrate", "violation"),
        ("/NewTopLevel", "violation"),
    }
    assert not is_valid(strict)


def test_json_pointer_escapes_unknown_names():
    document = body("ai", **{"a/b~c": 1})
    assert [v.pointer for v in validate_response(document)] == ["/AIJobDetail/a~1b~0c"]


def test_every_property_carries_description_and_example():
    def walk(schema, where):
        for name, spec in schema.get("properties", {}).items():
            assert spec.get("description"), f"{where}/{name} has no description"
            if "properties" in spec:
                walk(spec, f"{where}/{name}")
            else:
                assert spec.get("examples"), f"{where}/{name} has no example"

    for name in ("envelope", "transcode", "snapshot", "ai", "workflow", "error"):
        schema = schema_document(name)
        for field, spec in schema["properties"].items():
            if "$ref" in spec:
                continue
            assert spec.get("description"), f"{name}/{field}"
        if name != "envelope":
            walk(schema, name)


def test_workflow_schema_cites_the_sdk_model():
    assert "alibabacloud-vod20170321" in schema_document("workflow")["description"]
    assert "alibabacloud-vod20170321" in schema_document("envelope")["description"]


def test_schemas_declare_draft_2020_12_and_unique_ids():
    ids = list(all_schemas())
    assert len(ids) == len(set(ids))
    for document in all_schemas().values():
        assert document["$schema"] == "https://json-schema.org/draft/2020-12/schema"


def test_non_object_documents_are_violations_not_exceptions():
    for document in (None, [], "text", 3, 2.5, True):
        assert errors(document) == [("", errors(document)[0][1])]
