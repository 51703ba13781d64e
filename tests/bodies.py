"""Builders of valid GetJobDetail bodies for tests: one per job type, overridable field by field."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"

DETAILS = {
    "transcode": {
        "JobId": "2dc1634e0000000000000000003f1d22",
        "UserId": 139109000084930,
        "VideoId": "30e5d700000000000000bd900764de7c",
        "Status": "TranscodeSuccess",
        "TemplateId": "dbfaaec9e0000000000000000bf0b812",
        "Definition": "HD",
        "CreateTime": "2024-10-14T07:39:25Z",
        "CompleteTime": "2024-10-14T07:39:34Z",
    },
    "snapshot": {
        "JobId": "63df12s00000000000000000004hdq24",
        "UserId": 139109000084930,
        "VideoId": "30e5d700000000000000bd900764de7c",
        "Status": "Success",
        "Trigger": "Auto",
        "NormalConfig": '{"inl":0,"num":32,"tm":5,"wd":"352","ft":"normal","hg":"640"}',
        "SpriteConfig": '{"pad":"0","lines":"10","mgin":"0","cols":"10","ikcp":"false","hg":"68"}',
        "CreateTime": "2024-10-14T07:39:25Z",
        "CompleteTime": "2024-10-14T07:39:45Z",
    },
    "ai": {
        "JobId": "5c9dff751ba00000000000000059d50a",
        "UserId": 139109000084930,
        "MediaId": "30e5d700000000000000bd900764de7c",
        "JobType": "AIVideoCensor",
        "Status": "success",
        "Trigger": "Auto",
        "TemplateConfig": json.dumps(
            {
                "AuditRange": ["video", "image-cover", "text-title"],
                "AuditContent": ["screen"],
                "AuditItem": ["terrorism", "porn"],
                "AuditAutoBlock": "no",
            }
        ),
        "CreateTime": "2024-10-14T07:39:25Z",
        "CompleteTime": "2024-10-14T07:39:46Z",
    },
    "workflow": {
        "TaskId": "a1b2c3d4e5f60718293a4b5c6d7e8f90",
        "Status": "Succeed",
        "CreateTime": "2024-10-14T07:39:25Z",
        "FinishTime": "2024-10-14T07:41:02Z",
        "TaskInput": '{"Type":"Media","Media":"30e5d700000000000000bd900764de7c"}',
        "UserData": '{"Extend":{"team":"video"}}',
        # Keyed by node, as the official SDK model's example shows (the start node has no EndTime).
        "ActivityResults": json.dumps(
            {
                "Act_Start": {
                    "ActivityId": "start",
                    "ActivityInstanceId": "8a9402f4ff064084bf496707fb2d664a",
                    "StartTime": "2024-10-14T07:39:25Z",
                    "Result": '{"Type":"Media","Media":"30e5d700000000000000bd900764de7c"}',
                    "Status": "Succeed",
                },
                "VodTranscode_1": {
                    "ActivityId": "VodTranscode",
                    "ActivityInstanceId": "c8cf62d53bef4e04bf703976bae6d0b9",
                    "StartTime": "2024-10-14T07:39:26Z",
                    "EndTime": "2024-10-14T07:41:01Z",
                    "Result": '{"JobType":"VodTranscode"}',
                    "Status": "Succeed",
                },
            }
        ),
        "Workflow": {
            "WorkflowId": "vw_b8d0f9e7a1c24e2c9a3f5d6b7c8e9f01",
            "Name": "transcode-and-censor",
            "Type": "Common",
            "Status": "Active",
            "AppId": "app-1000000",
            "CreateTime": "2024-10-01T02:00:00Z",
            "ModifiedTime": "2024-10-02T02:00:00Z",
        },
    },
}

OBJECTS = {
    "transcode": "TranscodeJobDetail",
    "snapshot": "SnapshotJobDetail",
    "ai": "AIJobDetail",
    "workflow": "WorkflowTaskDetail",
}


def body(job_type: str, **fields: Any) -> dict[str, Any]:
    """A valid body of `job_type`; keyword fields replace (or, set to ..., delete) detail fields."""
    detail = copy.deepcopy(DETAILS[job_type])
    for name, value in fields.items():
        if value is ...:
            detail.pop(name, None)
        else:
            detail[name] = value
    return {
        "RequestId": "6708D849-F109-1A6C-AC91-000000000000",
        "JobType": job_type,
        OBJECTS[job_type]: detail,
    }


def reference_sample() -> dict[str, Any]:
    """The sample response of the API reference, saved verbatim."""
    return json.loads((FIXTURES / "responses" / "reference-sample.json").read_text())
