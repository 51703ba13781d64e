"""Fuzzing (hypothesis, fixed seed, bounded examples): loader and report writers never raise."""

from __future__ import annotations

import json
import string
import tempfile
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from audit.common.findings import Finding, Outcome
from audit.manifest.load import ManifestInvalid, load_manifests
from audit.report import FORMAT_NAMES, write_reports
from audit.results.jsonform import from_document
from audit.results.record import JobResult, RunRecord
from tests.report.fixtures import plain_document

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

FUZZ = settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
text = st.text(max_size=40)
keys = (
    st.sampled_from(
        [
            "version",
            "jobs",
            "id",
            "type",
            "expect",
            "Status",
            "vars",
            "defaults",
            "include",
            "jobs_from",
            "provider",
            "max_duration",
            "one_of",
            "not",
            "TemplateConfig",
            "transcode",
        ]
    )
    | text
)
values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | text,
    lambda c: st.lists(c, max_size=4) | st.dictionaries(keys, c, max_size=5),
    max_leaves=25,
)


def _load_text(content: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "m.yaml"
        path.write_text(content)
        try:
            manifest = load_manifests([path], env={})
        except ManifestInvalid as invalid:
            assert all(str(p).startswith(str(path)) or ":" in str(p) for p in invalid.problems)
        else:
            assert all(job.job_type in ("transcode", "snapshot", "ai", "workflow") for job in manifest.jobs)


@FUZZ
@given(st.text(alphabet=string.printable + "{}[]:-&*!|>'\"%@`\u00e9\u4e2d", max_size=300))
def test_manifest_loader_never_raises_on_any_text(content):
    _load_text(content)


@FUZZ
@given(st.dictionaries(keys, values, max_size=6))
def test_manifest_loader_never_raises_on_any_structure(document):
    _load_text(yaml.safe_dump(document, allow_unicode=True))


@FUZZ
@given(
    st.dictionaries(st.sampled_from(["id", "type", "expect", "description"]), values, min_size=1, max_size=4)
)
def test_manifest_loader_never_raises_on_odd_jobs(job):
    _load_text(yaml.safe_dump({"version": 1, "jobs": [job, {"id": "ok", "type": "ai"}]}, allow_unicode=True))


findings = st.builds(
    Finding, st.sampled_from(["mismatch", "duration", "schema", "not_found", "error"]), text, text, text, text
)
job_results = st.builds(
    JobResult,
    job_type=st.sampled_from(["transcode", "snapshot", "ai", "workflow"]),
    job_id=text,
    outcome=st.sampled_from(list(Outcome)),
    findings=st.lists(findings, max_size=3).map(tuple),
    notes=st.lists(text, max_size=2).map(tuple),
    description=st.none() | text,
    status=st.none() | text,
    duration=st.none() | st.floats(min_value=0, max_value=1e6),
    max_duration=st.none() | st.floats(min_value=0, max_value=1e6),
    template_id=st.none() | text,
    definition=st.none() | text,
    ai_job_type=st.none() | text,
    body_json=st.none() | values.map(lambda v: json.dumps(v, ensure_ascii=False, separators=(",", ":"))),
    request_id=st.none() | text,
    fetched_at=st.none() | text,
    from_state=st.booleans(),
    attempts=st.integers(0, 9),
)


@FUZZ
@given(st.lists(job_results, max_size=8, unique_by=lambda r: (r.job_type, r.job_id)), st.booleans())
def test_report_writers_never_raise_and_stay_readable(results, incomplete):
    run = RunRecord(
        "r",
        "0.1.0",
        "2026-11-24T00:00:00Z",
        "2026-11-24T00:00:01Z",
        "http://127.0.0.1:1",
        True,
        (("m.yaml", "0" * 64),),
        "1" * 64,
        len(results) + incomplete,
        tuple(results),
        incomplete=incomplete,
    )
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder)
        write_reports(run, out, FORMAT_NAMES)
        ET.parse(out / "junit.xml")  # well-formed whatever the content
        again = from_document(json.loads((out / "results.json").read_text()), "results.json")
        assert plain_document(again) == plain_document(run)
        page = (out / "report.html").read_text()
        data = page.split('type="application/json">')[1].split("</script>")[0]
        assert "<" not in data
