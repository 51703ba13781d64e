"""Issue #25: each way the Guarantees broke under hostile credentials, merges, histories and event
files, as a test that failed on the code before the fix (item numbers are the issue's)."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest

from audit.report import FORMAT_NAMES, write_reports
from tests.hostile import Reply, hostile, json_reply
from tests.report.fixtures import fixed_run
from tests.run.helpers import emulated_args

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


# 3. An answer completing before it was created (a warning) must not stop the reports, night after night.
def test_negative_zero_and_enormous_durations_all_render(tmp_path):
    run = fixed_run()
    durations = iter((-5.0, 0.0, 1e12))
    results = tuple(
        replace(r, duration=next(durations, r.duration)) if r.duration is not None else r for r in run.results
    )
    written = write_reports(replace(run, results=results), tmp_path, FORMAT_NAMES)
    assert len(written) == 11  # nine reports, evidence.json and the in-toto statement, sealed
    page = (tmp_path / "report.html").read_text()
    assert "-5s" in page and "277777777h46m" in page
    durations_csv = (tmp_path / "durations.csv").read_text()
    assert "-5.0" in durations_csv
    # Every duration of the night negative (one answer reused from state night after night).
    negative = tuple(replace(r, duration=-5.0) if r.duration is not None else r for r in run.results)
    (tmp_path / "all-negative").mkdir()
    assert (
        len(write_reports(replace(run, results=negative), tmp_path / "all-negative", ["html"])) == 4
    )  # the page, evidence.json, the statement, the seal


# 2. A report folder holds exactly one run's files, and verify fails on anything SHA256SUMS does not list.
def test_a_run_of_fewer_formats_leaves_no_earlier_report_beside_it(tmp_path, vod_audit):
    write_reports(fixed_run(), tmp_path, FORMAT_NAMES)
    write_reports(replace(fixed_run(), run_id="second"), tmp_path, ["json"])
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "SHA256SUMS",
        "attestation.intoto.json",
        "evidence.json",
        "results.json",
    ]
    assert vod_audit("verify", str(tmp_path)).returncode == 0
    (tmp_path / "summary.md").write_text("## vod-audit: PASS\n")  # put there after the run
    done = vod_audit("verify", str(tmp_path))
    assert done.returncode == 2
    assert "summary.md: FAILED (not in SHA256SUMS: not part of this run's set)" in done.stdout


def write_jobs(tmp_path, transcode_expect: dict | None = None):
    """The sample jobs, the transcode one with `transcode_expect`; (manifest, data file)."""
    import yaml

    from audit.emulator.data import job_identity
    from tests.conftest import sample_jobs
    from tests.run.helpers import write_data

    bodies = sample_jobs()
    jobs = [
        {"id": job_identity(b)[1], "type": job_identity(b)[0]}
        | ({"expect": transcode_expect} if transcode_expect and job_identity(b)[0] == "transcode" else {})
        for b in bodies
    ]
    (tmp_path / "m.yaml").write_text(yaml.safe_dump({"version": 1, "jobs": jobs}))
    return tmp_path / "m.yaml", write_data(tmp_path / "data.json", bodies)


# 4. Only a run whose report set was written is the next night's baseline.
def test_a_run_whose_reports_failed_is_never_the_baseline(tmp_path, vod_audit, monkeypatch):
    import errno

    from audit.report.json_file import JsonReport

    state, out = str(tmp_path / "s.db"), str(tmp_path / "out")
    manifest, data = write_jobs(tmp_path)
    assert (
        vod_audit("run", str(manifest), "--emulator", str(data), "--out", out, "--state", state).returncode
        == 0
    )
    manifest, data = write_jobs(tmp_path, {"TemplateId": "another template"})  # a new finding tonight

    def full(self, run, folder):
        raise OSError(errno.ENOSPC, "No space left on device")

    with monkeypatch.context() as patched:
        patched.setattr(JsonReport, "write", full)
        failed = vod_audit("run", str(manifest), "--emulator", str(data), "--out", out, "--state", state)
    assert failed.returncode == 1 and "No space left on device" in failed.stderr
    again = vod_audit(
        "run", str(manifest), "--emulator", str(data), "--out", out, "--state", state, "--fail-on", "new"
    )
    document = json.loads((tmp_path / "out" / "results.json").read_text())
    assert again.returncode == 2, again.stdout  # still new: nobody was ever shown it
    assert document["changes"]["new"] == 1
    assert [point["status"] for point in document["trend"]] == ["complete", "unreported", "complete"]


# 1. A merged verdict is never milder than an input's: runs gated differently are refused.
def test_runs_gated_differently_are_not_merged_into_a_milder_verdict(tmp_path, vod_audit):
    from audit.results.jsonform import parts

    strict = replace(fixed_run(), run_id="a", started_at="2026-11-25T02:00:00Z", fail_on="any")
    lenient = replace(
        fixed_run(),
        run_id="b",
        started_at="2026-11-25T01:00:00Z",  # the earlier run: the one whose options the merge kept
        fail_on="new",
        results=tuple(replace(r, change="ongoing", job_id=f"b-{r.job_id}") for r in fixed_run().results),
    )
    assert strict.exit_code == 2 and lenient.exit_code != 2  # its ongoing findings pass its gate
    (tmp_path / "a.json").write_text("".join(parts(strict)))
    (tmp_path / "b.json").write_text("".join(parts(lenient)))
    done = vod_audit(
        "report", "merge", str(tmp_path / "a.json"), str(tmp_path / "b.json"), "--out", str(tmp_path / "m")
    )
    assert done.returncode == 1 and "gated differently" in done.stderr
    assert not (tmp_path / "m" / "summary.md").exists()


# 5. An answer records the account it carries, never the one its credentials were thought to have.
def test_an_answer_of_another_account_is_never_served_to_a_run_of_this_one(start_emulator, tmp_path):
    from audit.emulator.data import job_identity
    from tests.conftest import sample_jobs
    from tests.run.helpers import clean_env, cli, results, run_args, write_manifest

    bodies = sample_jobs()
    for body in bodies:  # the auditing role's account: what every answer but one carries
        detail = next(v for k, v in body.items() if k.endswith("Detail"))
        if "UserId" in detail:
            detail["UserId"] = 1111111111111111
    foreign = next(b for b in bodies if b["JobType"] == "transcode")
    foreign["TranscodeJobDetail"]["UserId"] = 2222222222222222  # not the auditing role's account
    emulator = start_emulator(jobs=bodies, qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    home = tmp_path / "home"
    (home / ".aliyun").mkdir(parents=True)
    role = {"name": "r", "mode": "RamRoleArn", "access_key_id": "emulator-ak"}
    role |= {"access_key_secret": "emulator-secret", "ram_role_arn": "acs:ram::1111111111111111:role/auditor"}
    (home / ".aliyun" / "config.json").write_text(json.dumps({"current": "r", "profiles": [role]}))
    (home / ".aliyun" / "config.json").chmod(0o600)

    def audit() -> dict:
        out = tmp_path / "out"
        done = cli(
            *run_args(manifest, out, emulator.url, "--sts-endpoint", emulator.url),
            env=clean_env(HOME=str(home)),
        )
        assert done.returncode == 0, done.stderr
        return results(out)

    assert audit()["calls"] == len(bodies)
    second = audit()
    asked = {r["job_id"] for r in second["results"] if not r["from_state"]}
    assert asked == {job_identity(foreign)[1]}  # the other account's answer is asked for again


# 6. A waiver waives findings about an answer, never the absence of one.
def test_a_waiver_without_a_field_never_makes_a_missing_answer_ok(tmp_path, vod_audit):
    import yaml

    from tests.conftest import sample_jobs
    from tests.run.helpers import write_data

    data = write_data(tmp_path / "data.json", sample_jobs()[:1])  # the transcode job only
    jobs = [{"id": "gone0000000000000000000000000000", "type": "transcode"}]
    waiver = {"job": jobs[0]["id"], "reason": "known", "expires": "2099-12-31"}

    def run(waivers: list[dict]) -> tuple[int, dict]:
        manifest = tmp_path / "m.yaml"
        manifest.write_text(yaml.safe_dump({"version": 1, "jobs": jobs, "waivers": waivers}))
        out = tmp_path / "out"
        done = vod_audit(*emulated_args(manifest, data, out, tmp_path / "s.db"))
        return done.returncode, json.loads((out / "results.json").read_text())["results"][0]

    code, result = run([waiver])
    assert (code, result["outcome"]) == (2, "not_found")
    code, result = run([waiver | {"field": "not_found"}])  # named explicitly: accepted, yet not ok
    assert (code, result["outcome"]) == (0, "waived")


# 7. A manifest's folder is a path, not a pattern.
def test_a_folder_named_with_glob_characters_reads_its_own_events(tmp_path):
    from audit.manifest.load import load_manifests

    event = {"EventType": "AIMediaAuditComplete", "EventTime": "2026-11-24T00:00:00Z"}
    for folder, job in (("night[1]", "mine"), ("night1", "another-folders")):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "e.jsonl").write_text(json.dumps(event | {"JobId": job}) + "\n")
    manifest = tmp_path / "night[1]" / "m.yaml"
    manifest.write_text("version: 1\njobs_from:\n  - events: '*.jsonl'\n")
    assert [spec.job_id for spec in load_manifests([manifest], env={}).jobs] == ["mine"]


# 8. Reading commands never change a state; a state of a newer layout or of another program is refused.
@pytest.mark.parametrize("command", ["history", "run"])
@pytest.mark.parametrize("kind", ["newer", "foreign"])
def test_a_state_that_is_not_ours_to_read_is_refused_unchanged(tmp_path, vod_audit, command, kind):
    import hashlib
    import sqlite3

    state = tmp_path / "state.db"
    database = sqlite3.connect(state)
    if kind == "newer":
        database.execute("CREATE TABLE responses (endpoint, job_type, job_id, body)")
        database.execute("CREATE TABLE runs (run_id, started_at, status)")
        database.execute("INSERT INTO responses VALUES ('e', 'ai', 'j', '{}')")
        database.execute("PRAGMA user_version=9")
    else:
        database.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
        database.execute("INSERT INTO invoices (total) VALUES (12.5)")
    database.commit()
    database.close()
    before = hashlib.sha256(state.read_bytes()).hexdigest()
    manifest, data = write_jobs(tmp_path)
    if command == "history":
        done = vod_audit("history", "--state", str(state))
    else:
        done = vod_audit(*emulated_args(manifest, data, tmp_path / "out", state))
    said = "written by a newer vod-audit" if kind == "newer" else "not a vod-audit state"
    assert done.returncode == 1 and said in done.stderr and len(done.stderr.splitlines()) == 1
    assert hashlib.sha256(state.read_bytes()).hexdigest() == before


# 9. A closed terminal (SIGHUP, then every write to it failing) writes what was collected, exit 3.
def test_a_closed_terminal_never_loses_the_audit(tmp_path):
    import os
    import pty
    import signal
    import subprocess
    import sys
    import threading
    import time

    from tests.conftest import sample_jobs
    from tests.hostile import hostile, json_reply
    from tests.run.helpers import EMULATOR_ENV, ROOT, clean_env, write_manifest

    bodies = sample_jobs()
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    document = {b["JobType"]: b for b in bodies}
    asked = threading.Event()

    def slow(query):
        asked.set()
        time.sleep(0.3)
        return json_reply({"RequestId": "R", **document[query["JobType"]]})

    terminal, side = pty.openpty()
    with hostile(slow) as url:
        process = subprocess.Popen(
            [sys.executable, "-m", "audit", "run", str(manifest), "--endpoint", url, "--out", str(tmp_path / "out"),
             "--qps", "1", "--concurrency", "1", "--state", str(tmp_path / "s.db"), "--progress"],
            stdin=side, stdout=side, stderr=side, env=clean_env(**EMULATOR_ENV), cwd=ROOT, start_new_session=True,
        )  # fmt: skip
        os.close(side)
        assert asked.wait(timeout=30)
        os.close(terminal)  # the terminal window closes: every later write fails with EIO
        process.send_signal(signal.SIGHUP)
        code = process.wait(timeout=30)
    assert code == 3
    written = json.loads((tmp_path / "out" / "results.json").read_text())
    assert written["incomplete"] and written["planned"] == len(bodies)


# 10. No log line of any library carries a secret: urllib3 logs a credentials URI's query at -vv.
def test_debug_logs_never_show_a_credentials_uris_token(start_emulator, tmp_path):
    from tests.conftest import sample_jobs
    from tests.run.helpers import clean_env, cli, run_args, write_manifest

    token = "uri-token-7f3a9c1e5b"
    emulator = start_emulator(qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    uri = f"{emulator.url}/_emulator/credentials?token={token}"
    done = cli(
        *run_args(manifest, tmp_path / "out", emulator.url),
        "-vv",
        env=clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=uri),
    )
    assert done.returncode == 0, done.stderr
    assert "/_emulator/credentials?(query withheld)" in done.stderr  # the line is there, its token not
    assert token not in done.stdout + done.stderr


# 11. A key pasted into credentials_env (where a variable's name belongs) is refused, never echoed.
@pytest.mark.parametrize("command", ["validate", "run"])
def test_a_key_where_a_variable_name_belongs_is_refused_unechoed(tmp_path, vod_audit, command):
    key_id, secret = "LTAI5tQxLzJ8n3mFaKe12345", "Abcdefghijklmnopqrstuvwxyz0123"
    manifest = tmp_path / "m.yaml"
    manifest.write_text(
        "version: 1\nproviders:\n  eu:\n    region: eu-central-1\n    credentials_env:\n"
        f"      access_key_id: {key_id}\n      access_key_secret: {secret}\n"
        "jobs:\n  - {id: j1, type: transcode, provider: eu}\n"
    )
    extra = ["--out", str(tmp_path / "out"), "--state", str(tmp_path / "s.db")] if command == "run" else []
    done = vod_audit(command, str(manifest), *extra)
    assert done.returncode == 1
    assert "m.yaml:6:22: access_key_id: this looks like a key" in done.stdout + done.stderr
    assert key_id not in done.stdout + done.stderr and secret not in done.stdout + done.stderr


# 12. One provider's refused credentials stop the run at once, not after the others are audited.
def test_one_providers_refused_credentials_stop_every_lane(start_emulator, tmp_path):
    import yaml

    from audit.emulator.data import job_identity
    from audit.emulator.generate import generate
    from tests.run.helpers import EMULATOR_ENV, clean_env, cli

    bodies = generate(300, seed=25)
    emulator = start_emulator(jobs=bodies, qps=0, latency_ms=50)
    jobs = [{"id": job_identity(b)[1], "type": job_identity(b)[0]} for b in bodies]
    jobs[0]["provider"] = "wrong"
    providers = {
        "wrong": {
            "endpoint": emulator.url,
            "credentials_env": {"access_key_id": "BAD_ID", "access_key_secret": "BAD_SECRET"},
        }
    }
    manifest = tmp_path / "m.yaml"
    manifest.write_text(yaml.safe_dump({"version": 1, "providers": providers, "jobs": jobs}))
    env = clean_env(**EMULATOR_ENV, BAD_ID="emulator-ak", BAD_SECRET="not-the-secret")
    done = cli(
        "run", str(manifest), "--endpoint", emulator.url, "--qps", "15", "--out", str(tmp_path / "out"),
        "--state", str(tmp_path / "s.db"), env=env,
    )  # fmt: skip
    assert done.returncode == 1 and "provider wrong: authentication failed" in done.stderr
    # At 15 calls/s the default provider's 299 jobs take 20 s; it stopped within a handful of calls.
    answered = emulator.counters.snapshot()["by_outcome"].get("ok", 0)
    assert 0 < answered < 60, answered


def credentials_relay(emulator_url: str, later, first=None):
    """A credentials URI in front of the emulator's: its first answer is `first(real)` (the real one
    by default), later ones `later(real)`; (the server, the answers it gave)."""
    import urllib.request

    served: list[dict] = []

    def answer(query):
        with urllib.request.urlopen(f"{emulator_url}/_emulator/credentials", timeout=10) as issued:
            real = json.load(issued)
        served.append(real)
        return (first or json_reply)(real) if len(served) == 1 else later(real)

    return hostile(answer), served


def claiming(expiration: str):
    return lambda real: json_reply(real | {"Expiration": expiration})


BROKEN_RENEWALS = {
    "cut short": lambda real: Reply(json.dumps(real).encode()[:20], claimed=400),
    "oversized": lambda real: Reply(b'{"Code": "' + b"x" * (200 << 10) + b'"}'),
    "dripped": lambda real: Reply(json.dumps(real).encode(), drip=0.5),
}


# 13. Any failure of a renewal is a failed renewal: backed off, then exit 3; never a dead thread and a hang.
@pytest.mark.parametrize("broken", list(BROKEN_RENEWALS))
def test_a_broken_renewal_answer_is_a_failed_renewal(start_emulator, tmp_path, broken):
    from audit.emulator.generate import generate
    from tests.run.helpers import clean_env, cli, results, run_args, write_manifest

    bodies = generate(200, seed=4)
    emulator = start_emulator(jobs=bodies, token_lifetime=2)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    server, _ = credentials_relay(emulator.url, BROKEN_RENEWALS[broken])
    with server as url:
        done = cli(
            *run_args(manifest, tmp_path / "out", emulator.url, "--qps", "10"),
            env=clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=url),
            timeout=120,
        )
    assert done.returncode == 3 and "Traceback" not in done.stderr, done.stderr
    assert "the credentials expired and could not be renewed" in done.stderr
    assert results(tmp_path / "out")["incomplete"]


# 14. An Expiration far in the future (9999-12-31) neither kills renewal nor hangs the run.
def test_an_expiration_in_the_year_9999_is_renewed_when_the_token_really_expires(start_emulator, tmp_path):
    from audit.emulator.generate import generate
    from tests.run.helpers import clean_env, cli, results, run_args, write_manifest

    bodies = generate(90, seed=2)
    emulator = start_emulator(jobs=bodies, token_lifetime=3)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    far = claiming("9999-12-31T23:59:59Z")  # every set claims to last forever; each really lasts 3 s
    server, _ = credentials_relay(emulator.url, far, first=far)
    with server as url:
        done = cli(
            *run_args(manifest, tmp_path / "out", emulator.url),
            env=clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=url),
            timeout=120,
        )
    document = results(tmp_path / "out")
    assert done.returncode in (0, 2), done.stderr
    assert document["counts"]["error"] == 0 and len(document["results"]) == 90
    assert document["credentials"]["renewals"] >= 1


# 15. Renewal is rate-bounded whatever the answers say: sets that arrive already expired.
def test_credentials_already_expired_on_arrival_are_not_fetched_in_a_loop(start_emulator, tmp_path):
    from audit.emulator.generate import generate
    from tests.run.helpers import clean_env, cli, results, run_args, write_manifest

    bodies = generate(60, seed=3)
    emulator = start_emulator(jobs=bodies, qps=0, latency_ms=50)
    manifest = write_manifest(tmp_path / "m.yaml", bodies)
    past = "2000-01-01T00:00:00Z"  # a clock skewed beyond the lifetime: every set looks expired
    server, served = credentials_relay(emulator.url, claiming(past), first=claiming(past))
    with server as url:
        done = cli(
            *run_args(manifest, tmp_path / "out", emulator.url, "--qps", "15"),
            env=clean_env(ALIBABA_CLOUD_CREDENTIALS_URI=url),
            timeout=120,
        )
    assert done.returncode in (0, 2, 3), done.stderr
    # About 4 s of run: renewals spaced 0.5 s, 1 s, 2 s ... apart, never hundreds.
    assert len(served) <= 10, len(served)
    assert len(results(tmp_path / "out")["credentials"]["access_key_ids"]) <= 10


# 16. A small .gz inflating to one enormous line is refused while it is read, in bounded memory.
def test_an_event_line_that_inflates_without_end_is_refused_in_bounded_memory(tmp_path):
    import gzip
    import resource
    import subprocess
    import sys

    from tests.run.helpers import ROOT

    with gzip.open(tmp_path / "bomb.jsonl.gz", "wb", compresslevel=9) as bomb:
        bomb.write(b'{"EventType": "AIMediaAuditComplete", "JobId": "')
        for _ in range(1400):  # 1.4 GB of id from about 1.4 MB on disk
            bomb.write(b"a" * (1 << 20))
        bomb.write(b'"}\n')
    (tmp_path / "m.yaml").write_text("version: 1\njobs_from:\n  - events: bomb.jsonl.gz\n")

    def one_gib() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (1 << 30, 1 << 30))

    done = subprocess.run(
        [sys.executable, "-m", "audit", "validate", str(tmp_path / "m.yaml")],
        capture_output=True, text=True, cwd=ROOT, timeout=120, preexec_fn=one_gib,
    )  # fmt: skip
    assert done.returncode == 1 and "internal error" not in done.stderr + done.stdout
    assert "bomb.jsonl.gz:1:1: a line longer than 1 MiB: not an event body" in done.stdout


def write_events_manifest(tmp_path, events: str, extra: str = ""):
    (tmp_path / "m.yaml").write_text(f"version: 1\njobs_from:\n  - events: {events}\n{extra}")
    return tmp_path / "m.yaml"


# 18. A waiver to the calendar's last day is valid and handled: the run neither crashes nor stays "running".
def test_a_waiver_to_the_last_day_of_the_calendar_holds(tmp_path, vod_audit):
    import sqlite3

    import yaml

    manifest, data = write_jobs(tmp_path, {"TemplateId": "another template"})
    document = yaml.safe_load(manifest.read_text())
    transcode = next(j for j in document["jobs"] if j["type"] == "transcode")
    document["waivers"] = [{"job": transcode["id"], "reason": "forever", "expires": "9999-12-31"}]
    manifest.write_text(yaml.safe_dump(document))
    assert vod_audit("validate", str(manifest)).returncode == 0
    done = vod_audit(*emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db"))
    assert done.returncode == 0, done.stderr
    statuses = [row[0] for row in sqlite3.connect(tmp_path / "s.db").execute("SELECT status FROM runs")]
    assert statuses == ["complete"]


# 19. A window reaching back before the year 1 is a problem at its position, not a crash.
def test_a_window_beyond_the_calendar_is_a_problem_at_its_position(tmp_path, vod_audit):
    (tmp_path / "e.jsonl").write_text("")
    manifest = write_events_manifest(tmp_path, "e.jsonl", "    since: 10000000d\n")
    done = vod_audit("validate", str(manifest))
    assert done.returncode == 1 and "internal error" not in done.stderr
    assert "m.yaml:4:12: '10000000d' reaches back before the year 1" in done.stdout


# 20. An event file in the array form that is cut short or nested too deep is a problem at FILE:LINE.
@pytest.mark.parametrize(
    "content", ['[{"EventType": "AIMediaAuditComplete", "JobId": "a"}, {"Ev', "[" * 100_000]
)
def test_a_broken_event_array_is_a_problem_at_its_file(tmp_path, vod_audit, content):
    (tmp_path / "e.json").write_text(content)
    done = vod_audit("validate", str(write_events_manifest(tmp_path, "e.json")))
    assert done.returncode == 1 and "internal error" not in done.stderr
    assert "e.json:1:1: not a JSON array of event bodies" in done.stdout


# 17. A cut-short or oversized STS answer is a failed source: the chain goes on, as it does for a 500.
@pytest.mark.parametrize("broken", ["cut short", "oversized"])
def test_a_broken_sts_answer_lets_the_chain_go_on(start_emulator, tmp_path, broken):
    from tests.conftest import sample_jobs
    from tests.run.helpers import clean_env, cli, results, run_args, write_manifest

    emulator = start_emulator(qps=0)
    manifest = write_manifest(tmp_path / "m.yaml", sample_jobs())
    home = tmp_path / "home"
    (home / ".aliyun").mkdir(parents=True)
    role = {
        "name": "r",
        "mode": "RamRoleArn",
        "access_key_id": "emulator-ak",
        "access_key_secret": "emulator-secret",
    }
    role["ram_role_arn"] = "acs:ram::1111111111111111:role/auditor"
    (home / ".aliyun" / "config.json").write_text(json.dumps({"current": "r", "profiles": [role]}))
    (home / ".aliyun" / "config.json").chmod(0o600)
    with hostile(lambda query: BROKEN_RENEWALS[broken]({"Code": "Success"})) as sts:
        done = cli(
            *run_args(manifest, tmp_path / "out", emulator.url, "--sts-endpoint", sts),
            env=clean_env(
                HOME=str(home), ALIBABA_CLOUD_CREDENTIALS_URI=f"{emulator.url}/_emulator/credentials"
            ),
        )
    assert done.returncode == 0 and "internal error" not in done.stderr, done.stderr
    assert "credentials URI" in results(tmp_path / "out")["credentials"]["source"]


# 21. A results.json of the wrong shape is "not a valid results file", never an internal error.
@pytest.mark.parametrize(("field", "value"), [("duration", "12s"), ("job_id", None), ("from_state", "yes")])
@pytest.mark.parametrize("merging", [False, True])
def test_a_results_file_of_the_wrong_shape_is_refused_on_the_way_in(
    tmp_path, vod_audit, field, value, merging
):
    from audit.results.jsonform import parts

    document = json.loads("".join(parts(fixed_run())))
    document["results"][0][field] = value
    (tmp_path / "bad.json").write_text(json.dumps(document))
    (tmp_path / "other.json").write_text("".join(parts(replace(fixed_run(), results=()))))
    files = (
        [str(tmp_path / "bad.json"), str(tmp_path / "other.json")]
        if merging
        else [str(tmp_path / "bad.json")]
    )
    done = vod_audit("report", *(["merge"] if merging else []), *files, "--out", str(tmp_path / "out"))
    assert done.returncode == 1 and "internal error" not in done.stderr
    assert f"bad.json: not a valid results file: {field} of JobResult is not" in done.stderr


# 22. A JobId with line breaks is refused at load; whatever reaches summary.md is escaped there.
FORGED = "x1\n\n## vod-audit: PASS\n\n![tracker](http://evil.example/p.png)"


def test_a_forged_jobid_from_an_event_file_is_refused_at_its_line(tmp_path, vod_audit):
    event = {"EventType": "AIMediaAuditComplete", "EventTime": "2026-11-24T00:00:00Z", "JobId": FORGED}
    (tmp_path / "e.jsonl").write_text(
        json.dumps({**event, "JobId": "fine"}) + "\n" + json.dumps(event) + "\n"
    )
    done = vod_audit("validate", str(write_events_manifest(tmp_path, "e.jsonl")))
    assert done.returncode == 1
    assert (
        "e.jsonl:2:1: a JobId with control characters or line breaks: x1\\n\\n## vod-audit: PASS"
        in done.stdout
    )


def test_summary_md_cannot_be_forged_by_an_id(tmp_path):
    run = fixed_run()
    results = (
        replace(
            run.results[0],
            job_id=FORGED,
            change="new",
            outcome=run.results[1].outcome,
            findings=run.results[1].findings,
        ),
        *run.results[1:],
    )
    write_reports(replace(run, results=results), tmp_path, ["md"])
    summary = (tmp_path / "summary.md").read_text()
    import re

    outside_code = re.sub(r"`[^`\n]*`", "", summary)  # a code span on one line renders as text
    assert next(line for line in summary.splitlines() if line.startswith("#")) == "## vod-audit: FAIL"
    assert "## vod-audit: PASS" not in outside_code and "![" not in outside_code
