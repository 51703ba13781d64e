"""results.sarif: every finding as a SARIF 2.1.0 result at the manifest `file:line:col` of its job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from audit.findings import Finding
from audit.report.atomic import write_atomic
from audit.results import JobResult, RunRecord, ordered

VERSION = "2.1.0"
SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def rule_id(finding: Finding) -> str:
    """Stable per kind and field: `mismatch:Status`, `schema:/AIJobDetail/CompleteTime`, `error`."""
    return f"{finding.kind}:{finding.field}" if finding.field else finding.kind


def _uri(path: str) -> str:
    """The manifest path as a URI reference, relative to the working directory where it can be."""
    where = Path(path)
    if where.is_absolute():
        try:
            where = where.relative_to(Path.cwd())
        except ValueError:
            return where.as_uri()
    return quote(where.as_posix())


def _location(source: str | None) -> list[dict[str, Any]]:
    file, _, rest = (source or "").rpartition(":")
    file, _, line = file.rpartition(":")
    if not file or not line.isdigit() or not rest.isdigit():
        return []
    region = {"startLine": int(line), "startColumn": int(rest)}
    return [{"physicalLocation": {"artifactLocation": {"uri": _uri(file)}, "region": region}}]


def _result(job: JobResult, finding: Finding, index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
        "ruleIndex": index,
        "level": "error" if finding.severity == "error" else "warning",
        "message": {
            "text": f"{job.job_type} job {job.job_id}: {finding.message} "
            f"(expected {finding.expected}, actual {finding.actual})"
        },
        "locations": _location(job.source),
        "properties": {
            "job_type": job.job_type,
            "job_id": job.job_id,
            "provider": job.provider_name,
            "outcome": job.outcome.value,
            "kind": finding.kind,
            "field": finding.field,
            "expected": finding.expected,
            "actual": finding.actual,
        },
    }
    if finding.waived is not None:
        result["suppressions"] = [
            {
                "kind": "external",  # stated in the manifest, outside the audited answers
                "status": "accepted",
                "justification": finding.waived.reason,
                "properties": {"owner": finding.waived.owner, "expires": finding.waived.expires},
            }
        ]
    return result


def document(run: RunRecord) -> dict[str, Any]:
    """The SARIF log of a run: one run, one result per finding (warnings at level warning)."""
    rules: dict[str, int] = {}
    described: list[dict[str, Any]] = []
    results = []
    for job in ordered(run.results):
        for finding in job.findings:
            name = rule_id(finding)
            if name not in rules:
                rules[name] = len(described)
                described.append(
                    {
                        "id": name,
                        "shortDescription": {"text": f"{finding.kind} of {finding.field or 'the job'}"},
                    }
                )
            results.append(_result(job, finding, rules[name]))
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": "vod-audit", "version": run.tool_version, "rules": described}},
                "invocations": [
                    {
                        "executionSuccessful": not run.incomplete,
                        "startTimeUtc": run.started_at,
                        "endTimeUtc": run.finished_at,
                    }
                ],
                "results": results,
                "properties": {
                    "run_id": run.run_id,
                    "endpoint": run.endpoint,
                    "verdict": run.verdict,
                    "gate": run.gate,
                },
            }
        ],
    }


class SarifReport:
    name = "sarif"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        text = json.dumps(document(run), ensure_ascii=False, indent=1, allow_nan=False)
        return [write_atomic(out / "results.sarif", text + "\n")]
