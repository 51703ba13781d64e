"""results.sarif: every finding as a SARIF 2.1.0 result at the manifest `file:line:col` of its job."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

from audit.common.atomic import write_atomic
from audit.common.findings import Finding
from audit.results.record import JobResult, RunRecord, ordered

VERSION = "2.1.0"
SCHEMA = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"


def rule_id(finding: Finding) -> str:
    """Stable per kind and field: `mismatch:Status`, `schema:/AIJobDetail/CompleteTime`, `error`."""
    return f"{finding.kind}:{finding.field}" if finding.field else finding.kind


SRCROOT = "%SRCROOT%"  # the working directory of the run: the repository root in CI


class Bases:
    """Artifact locations as relative URIs under named bases (SARIF `originalUriBaseIds`): files in the
    working tree under %SRCROOT%, which code-scanning platforms resolve to the repository; each folder
    outside it (event files elsewhere) under a base of its own, never an absolute file:// URI."""

    def __init__(self) -> None:
        self.outside: dict[str, str] = {}  # folder URI -> base id

    def location(self, path: str) -> dict[str, str]:
        where = Path(path)
        if where.is_absolute():
            try:
                where = where.relative_to(Path.cwd())
            except ValueError:
                folder = where.parent.as_uri() + "/"
                base = self.outside.setdefault(folder, f"OUTSIDE{len(self.outside) + 1}")
                return {"uri": quote(where.name), "uriBaseId": base}
        return {"uri": quote(where.as_posix()), "uriBaseId": SRCROOT}

    def document(self) -> dict[str, Any]:
        bases: dict[str, Any] = {
            SRCROOT: {
                "description": {"text": "The working directory vod-audit ran in (the repository root in CI)."}
            }
        }
        for folder, base in self.outside.items():
            bases[base] = {"uri": folder, "description": {"text": "A folder outside the working directory."}}
        return bases


def _location(source: str | None, bases: Bases) -> list[dict[str, Any]]:
    file, _, rest = (source or "").rpartition(":")
    file, _, line = file.rpartition(":")
    if not file or not line.isdigit() or not rest.isdigit():
        return []
    region = {"startLine": int(line), "startColumn": int(rest)}
    return [{"physicalLocation": {"artifactLocation": bases.location(file), "region": region}}]


# Per kind: a title and what to do, for the rule's descriptions and help (`{field}` filled in).
_RULES = {
    "mismatch": (
        "{field} differs from the manifest",
        "GetJobDetail answered a value of {field} the manifest's expectation does not accept. Check the "
        "job (was it run with the wrong template or settings?) or, if the new value is right, change "
        "the expectation; an accepted exception is a waiver with an owner and an expiry.",
    ),
    "duration": (
        "{field} exceeded",
        "The job took longer (max_duration) or less time (min_duration) than the manifest allows, "
        "CompleteTime minus CreateTime. Look at the job's queue and template, or adjust the budget.",
    ),
    "schema": (
        "Answer departs from the GetJobDetail schema at {field}",
        "The answer does not have the shape the API reference documents at this JSON Pointer: a "
        "violation makes the job invalid, a warning (a rule no source states) changes no outcome. "
        "The schema rule and its source are in `vod-audit schema show`.",
    ),
    "not_found": (
        "Job not found",
        "GetJobDetail returned no detail for this JobId: it may be older than the service keeps, of "
        "another type or region, or mistyped in the manifest.",
    ),
    "error": (
        "No answer from GetJobDetail",
        "Every attempt failed (throttling, server errors, timeouts); the message says the last error. "
        "The job was not audited: run again, or lower --qps.",
    ),
    "unmanaged": (
        "Job not named by the manifest",
        "Discovery (SearchMedia, then ListJobInfo) found this job, and no list of the manifest names "
        "it: it was audited against defaults:. List it (vod-audit import --media), or let its media "
        "source say unmanaged: ignore.",
    ),
    "missed_event": (
        "No event notification named this job",
        "The service lists this job in the window, but no event file of the manifest names it: a "
        "callback that was lost (VOD discards an HTTP callback that fails three times).",
    ),
    "output": (
        "The job's stream is not what was ordered: {field}",
        "The job says TranscodeSuccess, and tonight GetPlayInfo lists no stream of it, or one that "
        "differs from the expectation's output: (its duration against the source's from "
        "GetMezzanineInfo). A stream deleted by a lifecycle rule or a cleanup, or cut short, looks "
        "like this: transcode again, or change the expectation.",
    ),
    "missing_job": (
        "The media lacks {field}",
        "The media source's require: says every media of its window must have this job, and the "
        "service lists none that succeeded (ListJobInfo, then GetJobDetail of each listed job): submit "
        "the job, or waive it for this media (type: media).",
    ),
    "unlisted": (
        "The service does not list this job",
        "An event notification named this job, but ListJobInfo did not list it for the media searched "
        "in the same window: an event of another account or region, or of media outside the window.",
    ),
}


def _rule(finding: Finding) -> dict[str, Any]:
    title, help_text = _RULES[finding.kind]
    field = finding.field or "the job"
    short = title.format(field=field)
    text = help_text.format(field=field)
    return {
        "id": rule_id(finding),
        "name": "".join(part.capitalize() for part in finding.kind.split("_")),
        "shortDescription": {"text": short},
        "fullDescription": {"text": text},
        "help": {"text": text, "markdown": f"**{short}**\n\n{text}"},
        "defaultConfiguration": {"level": "error" if finding.severity == "error" else "warning"},
        "properties": {"kind": finding.kind, "field": finding.field},
    }


def _result(job: JobResult, finding: Finding, index: int, bases: Bases) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": rule_id(finding),
        "ruleIndex": index,
        "level": "error" if finding.severity == "error" else "warning",
        "message": {
            "text": f"{job.job_type} job {job.job_id}: {finding.message} "
            f"(expected {finding.expected}, actual {finding.actual})"
        },
        "locations": _location(job.source, bases),
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
    bases = Bases()
    for job in ordered(run.results):
        for finding in job.findings:
            name = rule_id(finding)
            if name not in rules:
                rules[name] = len(described)
                described.append(_rule(finding))
            results.append(_result(job, finding, rules[name], bases))
    return {
        "$schema": SCHEMA,
        "version": VERSION,
        "runs": [
            {
                "tool": {"driver": {"name": "vod-audit", "version": run.tool_version, "rules": described}},
                "invocations": [
                    {
                        "executionSuccessful": not run.incomplete and not (run.empty and not run.allow_empty),
                        "startTimeUtc": run.started_at,
                        "endTimeUtc": run.finished_at,
                        **(
                            {
                                "toolExecutionNotifications": [
                                    {"level": "error", "message": {"text": run.statement}}
                                ]
                            }
                            if run.empty and not run.allow_empty
                            else {}
                        ),
                    }
                ],
                "originalUriBaseIds": bases.document(),
                "results": results,
                "properties": {
                    "run_id": run.run_id,
                    "endpoint": run.endpoint,
                    "verdict": run.verdict,
                    "gate": run.gate,
                    "statement": run.statement,
                },
            }
        ],
    }


class SarifReport:
    name = "sarif"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        text = json.dumps(document(run), ensure_ascii=False, indent=1, allow_nan=False)
        return [write_atomic(out / "results.sarif", text + "\n")]
