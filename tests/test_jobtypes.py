"""The job-type catalogue agrees with itself and with the schemas it is read from."""

from __future__ import annotations

import pytest

from audit.common.jobtypes import FACETS, NAMES, catalogue, job_type
from tests.bodies import OBJECTS, body


def test_one_record_per_job_type_in_order():
    assert tuple(catalogue()) == NAMES == tuple(OBJECTS)
    assert {t.name: t.detail_object for t in catalogue().values()} == OBJECTS


@pytest.mark.parametrize("name", NAMES)
def test_each_record_is_consistent(name):
    kind = job_type(name)
    assert kind.success <= kind.terminal <= set(kind.statuses)
    assert {kind.id_field, kind.end_field, "Status", "CreateTime", *kind.pinned} <= set(kind.fields)
    assert set(kind.facets) <= set(FACETS) and set(kind.facets.values()) <= set(kind.fields)


def test_workflow_tasks_are_named_and_timed_by_their_own_fields():
    assert (job_type("workflow").id_field, job_type("workflow").end_field) == ("TaskId", "FinishTime")
    assert (job_type("ai").id_field, job_type("ai").end_field) == ("JobId", "CompleteTime")


def test_facets_come_from_the_matching_detail_only():
    transcode = job_type("transcode")
    values = transcode.facet_values(transcode.detail(body("transcode", TemplateId="t1", Definition="HD")))
    assert values == {"template_id": "t1", "definition": "HD", "ai_job_type": None}
    assert job_type("snapshot").facet_values(None) == dict.fromkeys(FACETS)
    assert transcode.detail({"TranscodeJobDetail": "not an object"}) is None
