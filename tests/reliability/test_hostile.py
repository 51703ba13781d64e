"""Truth under hostile answers: a server on 127.0.0.1 that lies, drips, inflates and throttles oddly.

Each case runs the real CLI against the hostile server and checks that the job ends with a truthful
outcome and a clear message, never `ok` on an answer that is not about it, never a run that hangs.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import signal
import time
from pathlib import Path

import pytest
import yaml

from tests.bodies import body
from tests.hostile import Reply, hostile, json_reply
from tests.run.helpers import cli, popen, results

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow

ID = "2dc1634e0000000000000000003f1d22"


def fresh(job_type: str = "transcode", **fields: object) -> dict:
    """A valid body of today (the six-month window), for the job asked unless told otherwise."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 120))
    done = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() - 60))
    end = "FinishTime" if job_type == "workflow" else "CompleteTime"
    return body(job_type, **{"JobId": ID, "CreateTime": now, end: done, **fields})


def audit(tmp_path: Path, url: str, *flags: str, expect: dict | None = None, timeout: float = 120):
    manifest = tmp_path / "m.yaml"
    job = {"id": ID, "type": "transcode", "expect": expect or {"Status": "TranscodeSuccess"}}
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": [job]}))
    out = tmp_path / "out"
    done = cli(
        "run", str(manifest), "--endpoint", url, "--out", str(out), "--state", str(tmp_path / "s.db"),
        "--retries", "1", "--no-progress", *flags, timeout=timeout,
    )  # fmt: skip
    assert "Traceback" not in done.stderr, done.stderr
    return done, results(out)["results"][0] if (out / "results.json").exists() else None


class Counter:
    def __init__(self) -> None:
        self.calls = 0


@pytest.mark.parametrize(
    ("name", "document", "said"),
    [
        ("another job", fresh(JobId="ffffffff0000000000000000003f1d22"), "not '2dc1634e"),
        ("another type", {**fresh(), "JobType": "snapshot"}, "about a snapshot job"),
        ("id in other letter case", fresh(JobId=ID.upper()), "'2DC1634E0000000000000000003F1D22'"),
    ],
)
def test_an_answer_about_another_job_is_never_ok(tmp_path, name, document, said):
    with hostile(lambda query: json_reply(document)) as url:
        done, result = audit(tmp_path, url)
    assert result["outcome"] == "error" and done.returncode == 3, name
    assert said in result["findings"][0]["message"]


def test_import_does_not_pin_another_jobs_values(tmp_path):
    with hostile(lambda query: json_reply(fresh(JobId="ffffffff0000000000000000003f1d22"))) as url:
        done = cli(
            "import", "--type", "transcode", "--ids", "-", "--endpoint", url, "--retries", "0", stdin=ID
        )
    assert done.returncode == 2
    assert "left out" in done.stderr and "TemplateId" not in done.stdout


def test_a_dripping_body_ends_at_the_call_deadline(tmp_path):
    with hostile(lambda query: json_reply(fresh(), drip=0.5)) as url:
        done, result = audit(tmp_path, url, "--timeout", "2", "--retries", "0", timeout=60)
    assert result["outcome"] == "error" and done.returncode == 3
    assert "no complete answer within 2s" in result["findings"][0]["message"]


def test_sigterm_stops_a_run_stuck_on_a_dripping_server(tmp_path):
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": [{"id": ID, "type": "transcode"}]}))
    with hostile(lambda query: json_reply(fresh(), drip=0.5)) as url:
        process = popen(
            "run", str(manifest), "--endpoint", url, "--out", str(tmp_path / "out"), "--timeout", "120",
            "--state", str(tmp_path / "s.db"), "--no-progress",
        )  # fmt: skip
        time.sleep(1.5)  # the call is in flight, dripping
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=30)  # bounded: a run that ignored SIGTERM would drip for minutes
        stderr = process.stderr.read()
    assert code == 3 and "Traceback" not in stderr
    document = results(tmp_path / "out")
    assert document["incomplete"] and document["results"] == []  # cut off: not audited, not an error


def test_a_backtracking_pattern_runs_in_bounded_time(tmp_path):
    document = fresh(TemplateId="a" * 34 + "!")
    with hostile(lambda query: json_reply(document)) as url:
        done, result = audit(tmp_path, url, expect={"TemplateId": {"matches": "^(a+)+$"}}, timeout=60)
    assert result["outcome"] == "drift" and done.returncode == 2


def test_a_pattern_that_cannot_be_bounded_is_refused_by_validate(tmp_path, vod_audit):
    manifest = tmp_path / "m.yaml"
    job = {"id": ID, "type": "transcode", "expect": {"TemplateId": {"matches": "^(a)\\1$"}}}
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": [job]}))
    done = vod_audit("validate", str(manifest))
    assert done.returncode == 1 and "backreferences and lookaround" in done.stdout


def test_an_error_in_a_200_is_a_retried_error_not_an_unknown_job(tmp_path):
    counter = Counter()

    def answer(query):
        counter.calls += 1
        return json_reply({"RequestId": "R", "Code": "InternalError", "Message": "busy"})

    with hostile(answer) as url:
        done, result = audit(tmp_path, url)
    assert result["outcome"] == "error" and counter.calls == 2 and done.returncode == 3  # call + one retry
    assert "InternalError" in result["findings"][0]["message"]


def test_a_plain_text_429_is_throttling_and_retried(tmp_path):
    counter = Counter()

    def answer(query):
        counter.calls += 1
        if counter.calls == 1:
            return Reply(b"Too Many Requests", status=429, content_type="text/plain")
        return json_reply(fresh())

    with hostile(answer) as url:
        done, result = audit(tmp_path, url)
    assert result["outcome"] == "ok" and counter.calls == 2
    assert "throttles 1" in done.stdout


def _gzip_bomb(inflated: int) -> bytes:
    """A JSON body that gzip shrinks about a thousandfold, built without ever holding it inflated."""
    sink = io.BytesIO()
    head = json.dumps(fresh())[:-1] + ', "Padding": "'
    with gzip.GzipFile(fileobj=sink, mode="wb", compresslevel=6) as stream:
        stream.write(head.encode())
        zeros = b"0" * (1 << 20)
        for _ in range(inflated >> 20):
            stream.write(zeros)
        stream.write(b'"}')
    return sink.getvalue()


def test_a_gzip_bomb_is_refused_without_inflating_it(tmp_path):
    bomb = _gzip_bomb(512 << 20)
    assert len(bomb) < (1 << 20)
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "jobs": [{"id": ID, "type": "transcode"}]}))
    with hostile(lambda query: Reply(bomb, encoding="gzip")) as url:
        process = popen(
            "run", str(manifest), "--endpoint", url, "--out", str(tmp_path / "out"), "--retries", "0"
        )
        _, status, usage = os.wait4(process.pid, 0)  # this child's own peak memory
    # A child's peak counts what it inherited at fork (this test process): compare with a child
    # started the same way that only reads the manifest.
    baseline = popen("validate", str(manifest))
    _, _, reference = os.wait4(baseline.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 3
    assert usage.ru_maxrss - reference.ru_maxrss < 150 * 1024  # KiB: the 512 MiB never materialise
    result = results(tmp_path / "out")["results"][0]
    assert result["outcome"] == "error" and "more than 4 MiB" in result["findings"][0]["message"]


def test_duplicate_keys_are_a_violation_and_kept_as_received(tmp_path):
    failing = json.dumps(fresh(Status="TranscodeFail")["TranscodeJobDetail"])
    passing = json.dumps(fresh()["TranscodeJobDetail"])
    text = f'{{"RequestId":"R","JobType":"transcode","TranscodeJobDetail":{failing},"TranscodeJobDetail":{passing}}}'
    with hostile(lambda query: Reply(text.encode())) as url:
        done, result = audit(tmp_path, url)
    assert result["outcome"] == "invalid" and done.returncode == 2
    assert any("duplicate member name 'TranscodeJobDetail'" in f["message"] for f in result["findings"])
    assert result["response_text"] == text and result["response"] is None


def test_a_number_beyond_a_double_is_a_violation_and_results_stay_strict_json(tmp_path):
    text = json.dumps(fresh()).replace('"UserId": 139109000084930', '"UserId": 1e400')
    assert "1e400" in text
    with hostile(lambda query: Reply(text.encode())) as url:
        done, result = audit(tmp_path, url)
    assert result["outcome"] == "invalid" and done.returncode == 2
    raw = (tmp_path / "out" / "results.json").read_text()
    json.loads(raw, parse_constant=lambda name: pytest.fail(f"{name} in results.json"))
    again = cli("report", str(tmp_path / "out" / "results.json"), "--out", str(tmp_path / "again"))
    assert again.returncode == 0, again.stderr


@pytest.mark.parametrize("moment", ["2026-02-30T00:00:00Z", "2026-04-31T10:00:00Z", "2026-02-29T00:00:00Z"])
def test_an_impossible_date_is_a_violation_and_never_skips_max_duration(tmp_path, moment):
    with hostile(lambda query: json_reply(fresh(CompleteTime=moment))) as url:
        done, result = audit(tmp_path, url, expect={"Status": "TranscodeSuccess", "max_duration": "1h"})
    assert result["outcome"] == "invalid" and done.returncode == 2
    fields = {f["field"]: f["message"] for f in result["findings"]}
    assert "real calendar time" in fields["/TranscodeJobDetail/CompleteTime"]
    assert "max_duration 1h cannot be checked" in fields["max_duration"]
