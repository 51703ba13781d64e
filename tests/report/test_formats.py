"""Report formats: golden files, lossless results.json, JUnit read back, and hostile content."""

from __future__ import annotations

import csv
import json
from dataclasses import replace
from pathlib import Path

import pytest
from junitparser import JUnitXml

from audit.common.jsonfile import read_json
from audit.report import FORMAT_NAMES, REPORT_FILES, write_reports
from audit.report.html import embedded_json, parts
from audit.results.jsonform import from_document
from tests.report.fixtures import FORMULA, XSS, fixed_run, plain_document

GOLDEN = Path(__file__).parent / "golden"
# Every report but the page, whose embedded timestamp and scripts are checked in the browser tests.
GOLDEN_FILES = [
    name for name in REPORT_FILES if name not in ("report.html", "attestation.intoto.json")
]  # both name the page's digest


@pytest.fixture
def written(tmp_path):
    write_reports(fixed_run(), tmp_path, FORMAT_NAMES)
    return tmp_path


@pytest.mark.parametrize("name", GOLDEN_FILES)
def test_golden(written, name):
    assert (written / name).read_text() == (GOLDEN / name).read_text()


def test_results_json_round_trips_losslessly(written):
    again = from_document(read_json(written / "results.json"), "results.json")
    assert again == fixed_run()
    assert plain_document(again) == plain_document(fixed_run())


def test_junit_read_back_by_an_independent_parser(written):
    suites = {suite.name: suite for suite in JUnitXml.fromfile(str(written / "junit.xml"))}
    assert set(suites) == {"vod-audit.transcode", "vod-audit.snapshot", "vod-audit.ai", "vod-audit.workflow"}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for suite in suites.values():
        cases = list(suite)
        totals["tests"] += len(cases)
        for case in cases:
            kinds = {type(r).__name__ for r in case.result}
            totals["failures"] += "Failure" in kinds
            totals["errors"] += "Error" in kinds
            totals["skipped"] += "Skipped" in kinds
    # drift 2 + invalid 1 + not_found 1 fail; error 1 errs; pending 1 and waived 1 are skipped; 9 jobs
    assert totals == {"tests": 9, "failures": 4, "errors": 1, "skipped": 2}
    assert suites["vod-audit.ai"].failures == 2


def test_every_csv_neutralises_formula_cells(written):
    for name in ("results.csv", "mismatches.csv", "durations.csv"):
        with open(written / name, newline="") as handle:
            cells = [cell for row in csv.reader(handle) for cell in row]
        assert FORMULA not in cells, name
        assert "'" + FORMULA in cells, name
        assert not any(cell.startswith(("=", "+", "-", "@", "\t", "\r")) for cell in cells), name


def test_html_escapes_everything_from_the_api():
    page = "".join(parts(fixed_run()))
    assert "<script>window.__xss" not in page
    assert '<img src=x onerror="window.__xss' not in page
    assert "&lt;script&gt;window.__xss=1" in page or "\\u003cscript\\u003ewindow.__xss=1" in page
    for island in ("jobs-data", "evidence-data", "findings-data"):
        data = page.split(f'<script id="{island}" type="application/json">')[1].split("</script>")[0]
        assert "<" not in data and ">" not in data  # nothing in the embedded data can close the element
        cells = [cell for row in json.loads(data) for cell in row if isinstance(cell, str)]
        assert any(XSS in cell or "window.__xss=1" in cell for cell in cells), island  # carried, inert


def test_embedded_json_is_inert_in_a_script_element():
    hostile = ["</script><script>alert(1)</script>", "&amp;", "\u2028"]
    text = embedded_json(hostile)
    assert "</" not in text and "&" not in text and "\u2028" not in text
    assert json.loads(text) == hostile


def test_html_is_self_contained():
    page = "".join(parts(fixed_run()))
    for needle in ("http://", "https://", 'src="//', "@import", "url("):
        lines = [line for line in page.splitlines() if needle in line]
        allowed = [
            line for line in lines if "127.0.0.1:8080" in line or "evil.example" in line or "__xss" in line
        ]
        assert lines == allowed, needle
    assert "default-src 'none'" in page


def test_markdown_summary_is_markup_inert():
    text = (GOLDEN / "summary.md").read_text()
    assert "<script>" not in text and "&lt;script&gt;" in text
    assert "## vod-audit: FAIL" in text


def test_reports_are_written_atomically_over_old_ones(tmp_path):
    (tmp_path / "results.json").write_text("old")
    write_reports(fixed_run(), tmp_path, ["json"])
    assert json.loads((tmp_path / "results.json").read_text())["format"] == 1
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left behind


def test_streamed_results_json_equals_the_document():
    from audit.results.jsonform import parts

    assert json.loads("".join(parts(fixed_run()))) == plain_document(fixed_run())


def test_results_json_is_written_in_parts_never_whole():
    from audit.results.jsonform import parts

    run = replace(fixed_run(), results=fixed_run().results * 3000)
    chunks = list(parts(run))
    whole = "".join(chunks)
    assert len(chunks) > 5 and max(map(len, chunks)) < len(whole) / 5
    assert json.loads(whole)["results"][-1]["job_id"] == run.results[-1].job_id
