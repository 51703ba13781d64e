"""Runs to notify about, built directly: many jobs, hostile ids and texts, a chosen change per job."""

from __future__ import annotations

from dataclasses import replace

from audit.common.channels import ChannelSpec
from audit.common.findings import Finding, Outcome
from audit.results.record import JobResult, RunRecord
from tests.report.fixtures import fixed_run

HOSTILE = "`<@all>` **bold** [click](https://evil.example) <font color=red>x</font> @all"


def failing(
    count: int, *, change: str = "new", said: str = "Status is TranscodeFail", job_id: str = ""
) -> RunRecord:
    """A run with `count` drifting transcode jobs (ids j0000…), each with one finding."""
    results = tuple(
        JobResult(
            "transcode",
            job_id or f"j{index:04d}",
            Outcome.DRIFT,
            findings=(
                Finding(
                    "value",
                    "Status",
                    '"TranscodeSuccess"',
                    '"TranscodeFail"',
                    said,
                    first_seen="2026-11-20T01:00:00Z",
                ),
            ),
            change=change,
            description="nightly ladder",
        )
        for index in range(count)
    )
    return replace(
        fixed_run(), results=results, planned=count, changes={change: count}, incomplete=False, waivers=()
    )


def spec(kind: str, **fields: object) -> ChannelSpec:
    values: dict[str, object] = {"name": kind, "type": kind, "url_env": "URL", "on": "always"}
    if kind in ("dingtalk", "feishu", "webhook"):
        values["secret_env"] = "SECRET"
    if kind == "email":
        values |= {"to": ("oncall@example.com",), "sender": "audit@example.com"}
    values.update(fields)
    return ChannelSpec(**values)  # type: ignore[arg-type]
