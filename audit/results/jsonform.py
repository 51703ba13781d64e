"""results.json (format 1): a run record written as JSON a result per line, and read back."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import fields
from typing import Any

from audit.common.channels import ChannelSpec
from audit.common.errors import UserError
from audit.common.findings import Finding, Outcome, Waived, finding_kind, finding_severity
from audit.common.jsonfile import compact_json
from audit.results.parts import (
    CredentialsUsed,
    DiscoveryRecord,
    NotificationRecord,
    ProviderLine,
    TrendPoint,
    WaiverRecord,
    checked_fields,
    fail_on,
    part_json,
    part_of,
)
from audit.results.record import FORMAT, JobResult, RunRecord


def _head(run: RunRecord) -> dict[str, Any]:
    document = {name.name: getattr(run, name.name) for name in fields(run) if name.name != "results"}
    document["manifests"] = [{"path": p, "sha256": d} for p, d in run.manifests]
    document["options"] = dict(run.options)
    document["counts"] = run.counts
    document["warnings"] = run.warnings
    document["waived"] = run.waived
    document["waivers"] = [part_json(w) for w in run.waivers]
    document["changes"] = dict(run.changes)
    document["trend"] = [part_json(t) for t in run.trend]
    document["credentials"] = part_json(run.credentials)
    document["providers"] = [part_json(p) for p in run.providers]
    document["sources"] = dict(run.sources)
    document["channels"] = [part_json(c) for c in run.channels]
    document["notifications"] = [part_json(n) for n in run.notifications]
    document["discovery"] = [part_json(d) for d in run.discovery]
    document["output_calls"] = dict(run.output_calls)
    document["exit_code"] = int(run.exit_code)
    document["verdict"] = run.verdict  # the state of the jobs; the gate decided the exit code
    document["gate"] = run.gate_document
    document["statement"] = run.statement
    return {"format": FORMAT, **document}


def parts(run: RunRecord) -> Iterator[str]:
    """results.json as it is written: the run's fields indented, then one result per line.

    Each stored body is already canonical JSON, so it is spliced in as it is: parsing 100,000
    responses only to serialise them again was most of the cost of writing this file. The lines
    are yielded in batches, never joined into the whole text (which was the peak of a run's memory).
    """
    text = json.dumps(_head(run), ensure_ascii=False, indent=1)
    yield text[:-2] + ',\n "results": [\n'
    encode = json.JSONEncoder(ensure_ascii=False).encode
    batch: list[str] = []
    for index, result in enumerate(run.results):
        if index:
            batch.append(",\n")
        batch += (encode(_result_document(result))[:-1], ', "response": ', result.body_json or "null", "}")
        if len(batch) >= 4096:
            yield "".join(batch)
            batch.clear()
    batch.append("\n ]\n}\n")
    yield "".join(batch)


# Field names looked up once: results.json of a 100,000-job run writes each of them 100,000 times.
_RESULT_FIELDS = tuple(f.name for f in fields(JobResult))
_FINDING_FIELDS = tuple(f.name for f in fields(Finding))


def _result_document(result: JobResult) -> dict[str, Any]:
    """A result's entry in results.json, less its response (dumps splices in its compact JSON)."""
    document = {name: getattr(result, name) for name in _RESULT_FIELDS if name != "body_json"}
    document["outcome"] = result.outcome.value
    document["findings"] = [_finding_document(f) for f in result.findings]
    document["notes"] = list(result.notes)
    return document


def _finding_document(finding: Finding) -> dict[str, Any]:
    document = {name: getattr(finding, name) for name in _FINDING_FIELDS}
    if finding.waived is not None:
        waived = finding.waived
        document["waived"] = {"reason": waived.reason, "owner": waived.owner, "expires": waived.expires}
    return document


def from_document(document: Any, source: str, items: Iterable[Any] | None = None) -> RunRecord:
    """A run back from results.json (its results from `items` when given, read one at a time);
    UserError naming what is wrong when it is not one."""
    try:
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise ValueError(f"not a vod-audit results file of format {FORMAT}")
        results = tuple(_result_from(item) for item in (document["results"] if items is None else items))
        options = document.get("options") or {}
        return RunRecord(
            run_id=str(document["run_id"]),
            tool_version=str(document["tool_version"]),
            started_at=str(document["started_at"]),
            finished_at=str(document["finished_at"]),
            endpoint=str(document["endpoint"]),
            emulator=bool(document["emulator"]),
            manifests=tuple((str(m["path"]), str(m["sha256"])) for m in document["manifests"]),
            manifest_digest=str(document["manifest_digest"]),
            planned=int(document["planned"]),
            results=results,
            calls=int(document["calls"]),
            retries=int(document["retries"]),
            throttles=int(document["throttles"]),
            incomplete=bool(document["incomplete"]),
            access_key_id=document.get("access_key_id"),
            options=dict(options),
            state_error=document.get("state_error"),
            waivers=tuple(part_of(WaiverRecord, w) for w in document.get("waivers") or ()),
            changes=dict(document.get("changes") or {}),
            trend=tuple(part_of(TrendPoint, t) for t in document.get("trend") or ()),
            credentials=part_of(CredentialsUsed, document.get("credentials") or {}),
            stopped_by=document.get("stopped_by"),
            providers=tuple(part_of(ProviderLine, p) for p in document.get("providers") or ()),
            # Written by every version as `fail_on` at the top; earlier files kept it in options only.
            fail_on=fail_on(document.get("fail_on", options.get("fail_on", "any"))),
            sources={str(kind): int(count) for kind, count in (document.get("sources") or {}).items()},
            previous_sums=_optional_text(document.get("previous_sums"), "previous_sums"),
            audit=_optional_text(document.get("audit"), "audit") or "",
            channels=tuple(part_of(ChannelSpec, c) for c in document.get("channels") or ()),
            notifications=tuple(part_of(NotificationRecord, n) for n in document.get("notifications") or ()),
            discovery=tuple(part_of(DiscoveryRecord, d) for d in document.get("discovery") or ()),
            output_calls={str(k): int(v) for k, v in (document.get("output_calls") or {}).items()},
            allow_empty=document.get("allow_empty") is True,
            empty_because=_optional_text(document.get("empty_because"), "empty_because") or "",
        )
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        detail = f"missing {exc}" if isinstance(exc, KeyError) else str(exc)
        raise UserError(f"{source}: not a valid results file: {detail}") from None


def _result_from(item: Mapping[str, Any]) -> JobResult:
    findings = tuple(
        Finding(
            finding_kind(f["kind"]),
            str(f["field"]),
            str(f["expected"]),
            str(f["actual"]),
            str(f["message"]),
            finding_severity(f.get("severity", "error")),
            _waived(f.get("waived")),
            f.get("first_seen"),
        )
        for f in item["findings"]
    )
    response = item.get("response")
    return JobResult(
        outcome=Outcome(item["outcome"]),
        findings=findings,
        notes=tuple(str(n) for n in item.get("notes", [])),
        body_json=compact_json(response) if response is not None else None,
        **checked_fields(JobResult, item, _READ_APART),
    )


_READ_APART = frozenset({"outcome", "findings", "notes", "body_json"})


def _optional_text(value: Any, name: str) -> str | None:
    if value is not None and not isinstance(value, str):
        raise ValueError(f"{name} is not a string")
    return value


def _waived(value: Any) -> Waived | None:
    if value is None:
        return None
    owner = value.get("owner")
    return Waived(str(value["reason"]), str(owner) if owner is not None else None, str(value["expires"]))
