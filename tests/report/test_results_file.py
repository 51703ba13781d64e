"""results.json read back a result at a time (issue #30: a 100,000-job file is never parsed whole)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

import audit.results.reader as resultsfile
from audit.common.errors import UserError
from audit.report import write_reports
from audit.results.reader import read_results
from tests.report.fixtures import fixed_run


@pytest.fixture
def saved(tmp_path):
    write_reports(fixed_run(), tmp_path, ["json"])
    return tmp_path / "results.json"


def test_the_written_layout_is_read_line_by_line_and_round_trips(saved, monkeypatch):
    def whole(*args):
        raise AssertionError("parsed whole")

    monkeypatch.setattr(resultsfile, "read_json", whole)
    assert read_results(str(saved)) == fixed_run()


def test_any_other_layout_of_the_same_document_is_read_too(saved, tmp_path):
    other = tmp_path / "reformatted.json"
    other.write_text(json.dumps(json.loads(saved.read_text()), indent=2))
    assert read_results(str(other)) == fixed_run()
    empty = tmp_path / "empty"
    empty.mkdir()
    write_reports(replace(fixed_run(), results=()), empty, ["json"])
    assert read_results(str(empty / "results.json")).results == ()


def test_a_broken_or_cut_short_file_is_one_line_at_its_place(saved, tmp_path):
    lines = saved.read_text().splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line == ' "results": [\n') + 1
    broken = tmp_path / "broken.json"
    broken.write_text("".join(lines[: first + 2]) + '{"job_type": "x",\n' + "".join(lines[first + 3 :]))
    with pytest.raises(UserError, match=rf"broken.json:{first + 3}:\d+: not valid JSON"):
        read_results(str(broken))
    cut = tmp_path / "cut.json"
    cut.write_text("".join(lines[:-2]))
    with pytest.raises(UserError, match="it ends before its results do"):
        read_results(str(cut))
    wrong = tmp_path / "wrong.json"
    wrong.write_text("".join(lines).replace('"job_id": "t-ok"', '"job_id": null', 1))
    with pytest.raises(UserError, match="not a valid results file"):
        read_results(str(wrong))
