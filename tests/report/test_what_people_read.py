"""Issue 26, items 6 and 10: waivers where readers look, columns that mean one thing, summary.md
that lists each job once and says how many it left out."""

from __future__ import annotations

import csv
from dataclasses import replace

from audit.common.findings import Finding, Outcome
from audit.report import write_reports
from audit.report.markdown import TOP_FINDINGS, render
from audit.results.record import JobResult
from tests.report.fixtures import fixed_run


def test_mismatches_csv_columns_each_mean_one_thing(tmp_path):
    write_reports(fixed_run(), tmp_path, ["csv"])
    with open(tmp_path / "mismatches.csv", newline="") as handle:
        rows = {row["job_id"]: row for row in csv.DictReader(handle)}
    waived = rows["t-waived"]
    assert waived["outcome"] == "waived" and waived["counted"] == "False" and waived["waived"] == "True"
    assert (waived["waiver_reason"], waived["waiver_owner"], waived["waiver_expires"]) == (
        "legacy template until the migration",
        "video-platform",
        "2026-12-31",
    )
    assert rows["t-slow"]["waived"] == "False" and rows["t-slow"]["counted"] == "True"
    assert rows["s-ok"]["severity"] == "warning" and rows["s-ok"]["counted"] == "False"
    assert {row["severity"] for row in rows.values()} == {"error", "warning"}  # never "waived" or a reason


def test_summary_md_has_the_waiver_register_with_owner_and_expiry():
    summary = render(fixed_run())
    register = summary.split("| job | scope | reason | owner | expires | state | waived this run |")[1]
    assert "| `t-waived` | any type · TemplateId | accepted |  | 2026-12-31 | live | 1 |" in register
    assert (
        "| `t-slow` | any type · every field | accepted | media-team | 2026-11-01 | expired | 0 |" in register
    )


def _failing_night(count: int):
    failing = tuple(
        JobResult(
            "transcode",
            f"t-{index:03d}",
            Outcome.DRIFT,
            findings=(
                Finding("mismatch", "Status", '"TranscodeSuccess"', '"TranscodeFail"', f"drift {index}"),
            ),
            change="new",
        )
        for index in range(count)
    )
    return replace(fixed_run(), results=failing, planned=count, changes={"new": count})


def test_summary_md_lists_each_job_once_and_says_how_many_more():
    summary = render(_failing_night(TOP_FINDINGS + 5))
    listed = [line for line in summary.splitlines() if line.startswith("- **drift**")]
    assert len(listed) == TOP_FINDINGS == len(set(listed))
    assert summary.count("t-000") == 1  # a first night's findings are new: listed once, not twice
    assert "- and 5 more (see report.html)" in summary
    assert "(new) transcode `t-000`" in summary
