"""A fixed run with every outcome, hostile strings included, for golden and security tests."""

from __future__ import annotations

import json
from dataclasses import asdict, fields, replace
from typing import Any

from audit.common.channels import ChannelSpec
from audit.common.findings import Finding, Outcome, Waived
from audit.results.parts import DiscoveryRecord, NotificationRecord, TrendPoint, WaiverRecord
from audit.results.record import JobResult, RunRecord

XSS = '<script>window.__xss=1</script><img src=x onerror="window.__xss=2">'
FORMULA = '=HYPERLINK("http://evil.example/","click")'


def body(detail_name: str, job_type: str, **detail: object) -> str:
    return json.dumps(
        {"RequestId": "R-1", "JobType": job_type, detail_name: detail},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def plain_document(run: RunRecord) -> dict[str, Any]:
    """results.json as docs/reports.md describes it, built field by field: the oracle for the spliced writer."""
    head = {f.name: getattr(run, f.name) for f in fields(run) if f.name != "results"}
    head |= {
        "manifests": [{"path": p, "sha256": d} for p, d in run.manifests],
        "options": dict(run.options),
        "counts": run.counts,
        "warnings": sum(
            f.severity == "warning" and f.waived is None for r in run.results for f in r.findings
        ),
        "waived": sum(f.waived is not None for r in run.results for f in r.findings),
        "waivers": [asdict(w) for w in run.waivers],
        "changes": dict(run.changes),
        "trend": [asdict(t) for t in run.trend],
        "credentials": {**asdict(run.credentials), "access_key_ids": list(run.credentials.access_key_ids)},
        "providers": [{**asdict(p), "access_key_ids": list(p.access_key_ids)} for p in run.providers],
        "channels": [{**asdict(c), "to": list(c.to)} for c in run.channels],
        "notifications": [asdict(n) for n in run.notifications],
        "discovery": [{**asdict(d), "notes": list(d.notes)} for d in run.discovery],
        "exit_code": int(run.exit_code),
        "verdict": run.verdict,
        "gate": {
            "fail_on": run.fail_on,
            "passed": run.exit_code == 0,
            "exit_code": int(run.exit_code),
            "allow_empty": run.allow_empty,
        },
        "statement": run.statement,
    }
    results = []
    for result in run.results:
        entry = asdict(result)
        findings = [{**asdict(f), "waived": asdict(f.waived) if f.waived else None} for f in result.findings]
        entry |= {"outcome": result.outcome.value, "findings": findings}
        entry["notes"] = list(result.notes)
        body = entry.pop("body_json")
        entry["response"] = json.loads(body) if body else None
        results.append(entry)
    return {"format": 1, **head, "results": results}


def _waiver(job, field, expires, source, state, waived, soon, owner=None):
    return WaiverRecord(job, None, field, "accepted", owner, expires, source, state, waived, soon)


def fixed_run() -> RunRecord:
    template_config = json.dumps({"AuditItem": ["porn"], "Note": XSS})
    results = (
        JobResult(
            "transcode",
            "t-ok",
            Outcome.OK,
            status="TranscodeSuccess",
            duration=9.0,
            max_duration=600.0,
            template_id="dbf0",
            definition="HD",
            source="m.yaml:3:5",
            fetched_at="2026-11-24T01:00:00Z",
            body_json=body("TranscodeJobDetail", "transcode", JobId="t-ok", Status="TranscodeSuccess"),
            request_id="R-1",
            attempts=1,
            expectation='Status: "TranscodeSuccess"; max_duration: 10m',
        ),
        JobResult(
            "transcode",
            "t-slow",
            Outcome.DRIFT,
            status="TranscodeSuccess",
            duration=1390.0,
            max_duration=600.0,
            template_id="dbf0",
            definition="FHD",
            source="m.yaml:6:5",
            from_state=True,
            fetched_at="2026-11-23T01:00:00Z",
            findings=(
                Finding(
                    "duration", "max_duration", "at most 10m", "23m10s", "took 23m10s, over max_duration 10m"
                ),
            ),
        ),
        JobResult(
            "ai",
            FORMULA,
            Outcome.DRIFT,
            status="success",
            duration=87.0,
            ai_job_type="AIVideoCensor",
            description="-a description starting with a dash",
            source="m.yaml:9:5",
            body_json=body(
                "AIJobDetail", "ai", JobId=FORMULA, Status="success", TemplateConfig=template_config
            ),
            findings=(
                Finding(
                    "mismatch",
                    "TemplateConfig.AuditItem",
                    'containing "terrorism"',
                    '["porn"]',
                    f'TemplateConfig.AuditItem is ["porn"] {XSS}',
                ),
            ),
        ),
        JobResult(
            "ai",
            "a-bad",
            Outcome.INVALID,
            status="success",
            notes=("/AIJobDetail/New: unknown field",),
            findings=(
                Finding(
                    "schema",
                    "/AIJobDetail/CompleteTime",
                    "valid per schema",
                    "violation",
                    "'2024-10-14T07:39:46Z\\n' is not a UTC time of the form YYYY-MM-DDTHH:mm:ssZ",
                ),
            ),
        ),
        JobResult("snapshot", "s-run", Outcome.PENDING, status="Processing", max_duration=120.0),
        JobResult(
            "workflow",
            "w-gone",
            Outcome.NOT_FOUND,
            findings=(
                Finding("not_found", "JobId", "a job", "none", "GetJobDetail returned no WorkflowTaskDetail"),
            ),
        ),
        JobResult(
            "workflow",
            "w-err",
            Outcome.ERROR,
            attempts=6,
            findings=(
                Finding(
                    "error", "", "an answer", "none", "HTTP 503 ServiceUnAvailable: busy after 6 attempts"
                ),
            ),
        ),
        JobResult(
            "snapshot",
            "s-ok",
            Outcome.OK,
            status="Success",
            duration=12.5,
            findings=(
                Finding(
                    "schema",
                    "/SnapshotJobDetail/NormalConfig",
                    "valid per schema",
                    "warning",
                    "parsed JSON at /num: 'many' is not valid under any of the given schemas",
                    "warning",
                ),
            ),
        ),
    )
    # Night over night: t-slow has failed since the 22nd, the drifting AI job is new, t-ok got fixed.
    changes = {"t-slow": "ongoing", FORMULA: "new", "a-bad": "new", "t-ok": "resolved"}
    results = tuple(
        replace(
            r,
            change=changes.get(r.job_id, "clean"),
            findings=tuple(
                replace(
                    f, first_seen="2026-11-22T01:00:00Z" if r.job_id == "t-slow" else "2026-11-24T01:00:00Z"
                )
                for f in r.findings
            )
            if r.job_id in changes
            else r.findings,
        )
        for r in results
    )
    results += (
        JobResult(
            "transcode",
            "t-waived",
            Outcome.WAIVED,
            status="TranscodeSuccess",
            duration=20.0,
            source="m.yaml:12:5",
            findings=(
                Finding(
                    "mismatch",
                    "TemplateId",
                    '"dbf0"',
                    '"old1"',
                    'TemplateId is "old1", expected "dbf0"',
                    waived=Waived("legacy template until the migration", "video-platform", "2026-12-31"),
                ),
            ),
        ),
    )
    return RunRecord(
        run_id="20261124T010000Z-abc123",
        tool_version="0.1.0",
        started_at="2026-11-24T01:00:00Z",
        finished_at="2026-11-24T01:00:09Z",
        endpoint="http://127.0.0.1:8080",
        emulator=True,
        manifests=(("m.yaml", "ab" * 32),),
        manifest_digest="cd" * 32,
        audit="m",
        channels=(
            ChannelSpec(
                "oncall", "dingtalk", "new", url_env="DT_URL", secret_env="DT_SECRET", source="m.yaml:40:5"
            ),
            ChannelSpec(
                "mail", "email", "failure", url_file="smtp.url", to=("a@example.com",), sender="b@example.com"
            ),
        ),
        notifications=(
            NotificationRecord("oncall", "dingtalk", "new", "sent", "", 1),
            NotificationRecord("mail", "email", "failure", "skipped", "the run finished, every job answered"),
        ),
        discovery=(
            DiscoveryRecord(
                "m.yaml:30:5",
                "default",
                "2026-11-23T01:00:00Z .. 2026-11-24T01:00:00Z",
                4,
                5,
                2,
                {"SearchMedia": 2, "ListJobInfo": 12},
                (f"ListJobInfo ai m-1: /JobInfoList/0/Status: {XSS}",),
            ),
        ),
        planned=9,
        results=results,
        calls=12,
        retries=5,
        throttles=1,
        access_key_id="emul****r-ak",
        options={"qps": 15.0, "concurrency": 15, "retries": 5, "strict": False},
        changes={"new": 2, "ongoing": 1, "resolved": 1},
        trend=(
            TrendPoint("a", "2026-11-22T01:00:00Z", "complete", {"ok": 6, "drift": 1}),
            TrendPoint("b", "2026-11-23T01:00:00Z", "incomplete", {"ok": 3}),
            TrendPoint("c", "2026-11-24T01:00:00Z", "complete", {"ok": 3, "drift": 2, "error": 1}),
        ),
        waivers=(
            _waiver("t-waived", "TemplateId", "2026-12-31", "m.yaml:20:5", "live", 1, False),
            _waiver("t-slow", None, "2026-11-01", "m.yaml:25:5", "expired", 0, False, "media-team"),
            _waiver("s-ok", "Trigger", "2026-12-01", "m.yaml:30:5", "stale", 0, True),
        ),
    )
