"""Issue #42: Prometheus metrics of every run, and an in-toto attestation in every set."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import sample_jobs
from tests.loopback import serve
from tests.run.helpers import ROOT, cli, emulated_args, refused_endpoint, run_args, write_data, write_manifest

pytestmark = pytest.mark.slow
P = "vod_audit_"


def samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def demo(tmp_path: Path, *extra: str):
    out = tmp_path / "out"
    args = (
        "run",
        str(ROOT / "examples" / "demo.yaml"),
        "--emulator",
        str(ROOT / "examples" / "demo-data.yaml"),
    )
    return cli(*args, "--out", str(out), "--state", str(tmp_path / "s.db"), "--no-progress", *extra), out


def test_a_run_with_findings_then_a_failed_run_in_the_metrics_file(tmp_path):
    metrics = tmp_path / "vod_audit.prom"
    done, out = demo(tmp_path, "--metrics-file", str(metrics))
    assert done.returncode == 2, done.stderr
    found = samples(metrics.read_text())
    audit = (("audit", "demo"),)
    record = json.loads((out / "results.json").read_text())
    assert found[(f"{P}exit_code", audit)] == 2 and found[(f"{P}gate_passed", audit)] == 0
    for outcome, count in record["counts"].items():
        assert found[(f"{P}jobs", (("audit", "demo"), ("outcome", outcome)))] == count
    for change in ("new", "ongoing", "resolved"):
        assert found[(f"{P}findings", (("audit", "demo"), ("change", change)))] == record["changes"].get(
            change, 0
        )
    assert found[(f"{P}calls_total", (("audit", "demo"), ("operation", "GetJobDetail")))] == record["calls"]
    assert found[(f"{P}throttles_total", (("audit", "demo"), ("operation", "GetJobDetail")))] == 0
    assert found[(f"{P}retries_total", audit)] == record["retries"]
    success = found[(f"{P}last_success_timestamp_seconds", audit)]
    assert (
        success == found[(f"{P}last_run_timestamp_seconds", audit)]
        and found[(f"{P}run_duration_seconds", audit)] > 0
    )
    assert not any("job" in dict(labels) for _, labels in found)  # never a job id as a label
    # A failed run (a manifest that does not load is no run; one whose endpoint nothing reaches is).
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    manifest.write_text(manifest.read_text().replace("version: 1", "version: 1\nname: demo"))
    with refused_endpoint() as where:
        failed = cli(
            *run_args(manifest, tmp_path / "out2", f"http://{where}", "--metrics-file", str(metrics))
        )
    assert failed.returncode == 1
    after = samples(metrics.read_text())
    assert after[(f"{P}exit_code", audit)] == 1 and after[(f"{P}gate_passed", audit)] == 0
    assert after[(f"{P}last_success_timestamp_seconds", audit)] == success  # untouched by a failure
    assert after[(f"{P}last_run_timestamp_seconds", audit)] > success


def test_a_clean_run_and_two_providers(tmp_path, start_emulator):
    bodies = sample_jobs()
    data = write_data(tmp_path / "data.json", bodies)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    metrics = tmp_path / "clean.prom"
    done = cli(
        *emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db", "--metrics-file", str(metrics))
    )
    assert done.returncode == 0, done.stderr
    found = samples(metrics.read_text())
    assert (
        found[(f"{P}gate_passed", (("audit", "m"),))] == 1
        and found[(f"{P}exit_code", (("audit", "m"),))] == 0
    )
    emulator = start_emulator(jobs=bodies, qps=0)
    two = tmp_path / "two.yaml"
    jobs = [
        {"id": j["id"], "type": j["type"], "provider": "b" if n % 2 else None}
        for n, j in enumerate(
            json.loads(json.dumps(__import__("yaml").safe_load(manifest.read_text())["jobs"]))
        )
    ]
    document = {
        "version": 1,
        "providers": {"b": {"endpoint": emulator.url}},
        "jobs": [{k: v for k, v in j.items() if v} for j in jobs],
    }
    two.write_text(json.dumps(document))
    metrics2 = tmp_path / "two.prom"
    done = cli(*run_args(two, tmp_path / "out2", emulator.url, "--metrics-file", str(metrics2)))
    assert done.returncode == 0, done.stderr
    labels = {dict(ls).get("provider") for name, ls in samples(metrics2.read_text()) if name == f"{P}jobs"}
    assert labels == {"default", "b"}


def test_one_push_per_run_with_push_add_and_an_unreachable_gateway_is_a_warning(tmp_path):
    with serve(lambda received: (200, b"")) as (url, got):
        done, out = demo(tmp_path, "--pushgateway", url)
        assert done.returncode == 2 and len(got) == 1
        request = got[0]
        assert request.method == "POST" and request.path == "/metrics/job/vod-audit/audit/demo"
        pushed = samples(request.body.decode())
        assert (f"{P}last_success_timestamp_seconds", (("audit", "demo"),)) in pushed
        # A failed run pushes (POST: push-add) without a last-success value: the gateway keeps its own.
        manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
        manifest.write_text(manifest.read_text().replace("version: 1", "version: 1\nname: demo"))
        with refused_endpoint() as where:
            failed = cli(*run_args(manifest, tmp_path / "out2", f"http://{where}", "--pushgateway", url))
        assert failed.returncode == 1 and len(got) == 2 and got[1].method == "POST"
        after = samples(got[1].body.decode())
        assert (f"{P}exit_code", (("audit", "demo"),)) in after
        assert (f"{P}last_success_timestamp_seconds", (("audit", "demo"),)) not in after
    with refused_endpoint() as where:
        done, out = demo(tmp_path, "--pushgateway", f"http://{where}")
    assert done.returncode == 2 and (out / "results.json").exists()
    warnings = [line for line in done.stderr.splitlines() if "Pushgateway" in line or "pushed" in line]
    assert len(warnings) == 1 and "the run's outcome stands" in warnings[0]


def test_every_set_carries_an_in_toto_statement_of_itself(tmp_path):
    from in_toto_attestation.v1.statement import Statement

    done, out = demo(tmp_path)
    assert done.returncode == 2
    statement = json.loads((out / "attestation.intoto.json").read_text())
    assert statement["_type"] == "https://in-toto.io/Statement/v1"
    assert statement["predicateType"] == "https://in-toto.io/attestation/test-result/v0.1"
    Statement.copy_from_pb(_pb(statement)).validate()  # the framework's own model says it is one
    listed = {s["name"]: s["digest"]["sha256"] for s in statement["subject"]}
    on_disk = {p.name for p in out.iterdir()} - {"SHA256SUMS", "attestation.intoto.json"}
    assert set(listed) == on_disk
    assert all(hashlib.sha256((out / n).read_bytes()).hexdigest() == d for n, d in listed.items())
    predicate = statement["predicate"]
    assert predicate["result"] == "FAILED" and len(predicate["failedTests"]) == 8
    assert "attestation.intoto.json" in (out / "SHA256SUMS").read_text()
    (out / "attestation.intoto.json").write_text(
        json.dumps({**statement, "predicate": {**predicate, "result": "PASSED"}})
    )
    assert cli("verify", str(out)).returncode == 2  # changed, as any file of the set


@pytest.mark.parametrize(
    ("expect", "result"), [({}, "PASSED"), ({"transcode": {"TemplateId": "other"}}, "WARNED")]
)
def test_the_result_follows_the_verdict(tmp_path, expect, result):
    bodies = sample_jobs()
    manifest = write_manifest(tmp_path / "m.yaml", bodies, expect=expect)
    if expect:  # the one finding waived: WARNED, never PASSED
        job = next(b for b in bodies if b["JobType"] == "transcode")["TranscodeJobDetail"]["JobId"]
        manifest.write_text(
            manifest.read_text() + f"waivers:\n  - {{job: {job}, reason: known, expires: '2999-01-01'}}\n"
        )
    data = write_data(tmp_path / "data.json", bodies)
    out = tmp_path / "out"
    done = cli(*emulated_args(manifest, data, out, tmp_path / "s.db"))
    assert done.returncode == 0, done.stdout + done.stderr
    assert json.loads((out / "attestation.intoto.json").read_text())["predicate"]["result"] == result


def _pb(statement: dict):
    from google.protobuf import json_format
    from in_toto_attestation.v1 import statement_pb2

    return json_format.ParseDict(statement, statement_pb2.Statement())
