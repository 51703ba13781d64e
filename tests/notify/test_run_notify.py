"""Issue #27 end to end: `vod-audit run` tells the manifest's channels (a real receiver on 127.0.0.1),
says what became of each, keeps every secret out of every output, and `vod-audit notify` resends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from urllib.parse import parse_qs, quote_plus, urlsplit

import jsonschema
import pytest
import yaml

from audit.common.schemafiles import schema_document
from tests.conftest import sample_jobs
from tests.notify.receiver import receiver
from tests.run.helpers import (
    clean_env,
    cli,
    emulated_args,
    refused_endpoint,
    write_data,
    write_manifest,
)

pytestmark = pytest.mark.slow

TOKEN = "d1e2a3d4b5e6e7f8a9b0c1d2e3f4a5b6"
DING_SECRET = "SEC9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7"
HOOK_SECRET = "whsec-5f4e3d2c1b0a"


def channels(**overrides):
    listed = [
        {
            "name": "oncall",
            "type": "dingtalk",
            "url_env": "DINGTALK_WEBHOOK",
            "secret_env": "DINGTALK_SECRET",
            "on": "new",
        },
        {
            "name": "archive",
            "type": "webhook",
            "url_env": "AUDIT_WEBHOOK_URL",
            "secret_env": "AUDIT_WEBHOOK_SECRET",
            "on": "always",
            "report_url": "https://ci.example/{audit}/{run_id}/report.html",
        },
    ]
    return [{**c, **overrides.get(c["name"], {})} for c in listed]


def secrets(url):
    return {
        "ALIBABA_CLOUD_ACCESS_KEY_ID": "emulator-ak",
        "ALIBABA_CLOUD_ACCESS_KEY_SECRET": "emulator-secret",
        "DINGTALK_WEBHOOK": f"{url}/robot/send?access_token={TOKEN}",
        "DINGTALK_SECRET": DING_SECRET,
        "AUDIT_WEBHOOK_URL": f"{url}/hooks/{TOKEN}",
        "AUDIT_WEBHOOK_SECRET": HOOK_SECRET,
    }


def setup(tmp_path, monkeypatch, url, notify=None):
    for name, value in secrets(url).items():
        monkeypatch.setenv(name, value)
    bodies = sample_jobs()
    manifest = write_manifest(tmp_path / "m.yaml", bodies, expect={"transcode": {"TemplateId": "another"}})
    document = yaml.safe_load(manifest.read_text())
    document["notify"] = notify if notify is not None else channels()
    manifest.write_text(yaml.safe_dump(document, sort_keys=False))
    data = write_data(tmp_path / "data.json", bodies)
    return manifest, data


def no_secret_anywhere(tmp_path, *outputs):
    for secret in (TOKEN, DING_SECRET, HOOK_SECRET):
        for text in outputs:
            assert secret not in text
        for path in tmp_path.rglob("*"):
            if path.is_file() and path.suffix not in (".yaml",):
                assert secret.encode() not in path.read_bytes(), path


def test_a_run_tells_each_channel_once_signed_and_says_what_became_of_it(tmp_path, monkeypatch, vod_audit):
    with receiver() as got:
        manifest, data = setup(tmp_path, monkeypatch, got.url)
        out, state = tmp_path / "out", tmp_path / "s.db"
        # In a process of its own, as CI runs it: -vv logs urllib3's request lines (path and query).
        done = cli(*emulated_args(manifest, data, out, state, "-vv"), env=clean_env(**secrets(got.url)))
        assert "urllib3.connectionpool" in done.stderr and '"POST (withheld) HTTP/1.1" 200' in done.stderr
        assert done.returncode == 2, done.stderr  # the findings decide the exit, not the messages
        assert "notify oncall (dingtalk, on new): sent" in done.stdout
        assert "notify archive (webhook, on always): sent" in done.stdout
        ding, hook = got.requests
        query = parse_qs(urlsplit(ding.path).query)
        stamp = query["timestamp"][0]
        digest = hmac.new(DING_SECRET.encode(), f"{stamp}\n{DING_SECRET}".encode(), hashlib.sha256).digest()
        assert quote_plus(query["sign"][0]) == quote_plus(base64.b64encode(digest).decode())
        assert "FAIL: 1 job with findings (1 new)" in ding.json()["markdown"]["text"]
        signed = hmac.new(
            HOOK_SECRET.encode(),
            hook.headers["X-Vod-Audit-Timestamp"].encode() + b"." + hook.body,
            hashlib.sha256,
        )
        assert hook.headers["X-Vod-Audit-Signature"] == f"v1={signed.hexdigest()}"
        jsonschema.validate(hook.json(), schema_document("notification"))
        document = json.loads((out / "results.json").read_text())
        assert hook.json()["run_id"] == document["run_id"]
        assert hook.json()["report_url"] == f"https://ci.example/m/{document['run_id']}/report.html"
        assert [(n["channel"], n["status"]) for n in document["notifications"]] == [
            ("oncall", "sent"),
            ("archive", "sent"),
        ]
        assert [c["name"] for c in document["channels"]] == ["oncall", "archive"]

        # Night two, nothing new: the on-new channel is skipped and says why; always still sends.
        again = vod_audit(*emulated_args(manifest, data, out, state, "-v"))
        assert "notify oncall (dingtalk, on new): skipped (no job has new findings)" in again.stdout
        assert len(got.requests) == 3 and got.requests[2].path.startswith("/hooks/")
        no_secret_anywhere(tmp_path, done.stdout, done.stderr, again.stdout, again.stderr)


def test_a_failed_notification_is_said_and_changes_the_exit_only_when_strict(
    tmp_path, monkeypatch, vod_audit
):
    with receiver() as got:
        got.answers = [(400, b"bad request")]
        manifest, data = setup(tmp_path, monkeypatch, got.url)
        out, state = tmp_path / "out", tmp_path / "s.db"
        done = vod_audit(*emulated_args(manifest, data, out, state))
        assert done.returncode == 2
        line = f"notify archive (webhook, on always): failed (HTTP 400 from {got.url[7:]} (1 attempt))"
        assert line in done.stdout
        document = json.loads((out / "results.json").read_text())
        assert {n["status"] for n in document["notifications"]} == {"failed"}
        assert document["counts"]["drift"] == 1  # the findings are what they were
        strict = vod_audit(*emulated_args(manifest, data, out, state, "--notify-strict"))
        assert strict.returncode == 1 and "not delivered (--notify-strict)" in strict.stderr
        got.answers = [(200, b"{}")]
        fine = vod_audit(*emulated_args(manifest, data, out, state, "--notify-strict", "--notify", "archive"))
        assert fine.returncode == 2  # delivered: back to the gate's own exit
        assert "notify oncall (dingtalk, on new): off (not chosen by --notify)" in fine.stdout
        no_secret_anywhere(tmp_path, done.stdout, done.stderr, strict.stdout, strict.stderr)


def test_no_notify_and_an_unknown_channel(tmp_path, monkeypatch, vod_audit):
    with receiver() as got:
        manifest, data = setup(tmp_path, monkeypatch, got.url)
        out, state = tmp_path / "out", tmp_path / "s.db"
        done = vod_audit(*emulated_args(manifest, data, out, state, "--no-notify"))
        assert done.returncode == 2 and not got.requests
        assert "notify archive (webhook, on always): off (--no-notify)" in done.stdout
        unknown = vod_audit(*emulated_args(manifest, data, tmp_path / "o2", state, "--notify", "pager"))
        assert unknown.returncode == 1 and not got.requests
        assert (
            unknown.stderr
            == "vod-audit: --notify pager: no such channel in the manifest's notify: (oncall, archive)\n"
        )
        assert not (tmp_path / "o2" / "results.json").exists()


def test_a_run_that_cannot_finish_tells_the_failure_channels(tmp_path, monkeypatch, vod_audit):
    with receiver() as got:
        notify = channels(oncall={"on": "failure"})
        manifest, _ = setup(tmp_path, monkeypatch, got.url, notify)
        with refused_endpoint() as where:
            done = vod_audit(
                "run",
                str(manifest),
                "--endpoint",
                f"http://{where}",
                "--out",
                str(tmp_path / "out"),
                "--state",
                str(tmp_path / "s.db"),
            )
        assert done.returncode == 1
        assert len(got.requests) == 2  # on failure and always; both hear why
        text = got.requests[0].json()["markdown"]["text"]
        assert "**FAILED: the audit could not finish**" in text
        assert f"`cannot connect to {where}: connection refused; nothing was audited" in text
        assert got.requests[1].json()["verdict"] == "FAILED" and got.requests[1].json()["event"] == "always"
        assert "vod-audit: notify oncall (dingtalk, on failure): sent" in done.stderr


def test_notify_prints_or_resends_the_message_of_a_saved_run(tmp_path, monkeypatch, vod_audit):
    with receiver() as got:
        manifest, data = setup(tmp_path, monkeypatch, got.url)
        out = tmp_path / "out"
        assert (
            vod_audit(*emulated_args(manifest, data, out, tmp_path / "s.db", "--no-notify")).returncode == 2
        )
        for name in ("DINGTALK_WEBHOOK", "DINGTALK_SECRET", "AUDIT_WEBHOOK_URL", "AUDIT_WEBHOOK_SECRET"):
            monkeypatch.delenv(name)
        dry = vod_audit("notify", str(out / "results.json"), "--dry-run")
        assert dry.returncode == 0 and not got.requests
        assert "--- oncall (dingtalk): the message it would get" in dry.stdout
        assert (
            "FAIL: 1 job with findings (1 new)" in dry.stdout
            and "notify archive (webhook, on always): dry-run" in dry.stdout
        )
        unset = vod_audit("notify", str(out / "results.json"), "--channel", "archive")
        assert unset.returncode == 1 and "environment variable AUDIT_WEBHOOK_URL" in unset.stdout
        monkeypatch.setenv("AUDIT_WEBHOOK_URL", f"{got.url}/hooks/{TOKEN}")
        monkeypatch.setenv("AUDIT_WEBHOOK_SECRET", HOOK_SECRET)
        sent = vod_audit("notify", str(out / "results.json"), "--channel", "archive")
        assert sent.returncode == 0 and "notify archive (webhook, on always): sent" in sent.stdout
        assert len(got.requests) == 1 and got.requests[0].json()["verdict"] == "FAIL"


def test_each_trigger_over_three_nights_new_then_ongoing_then_resolved(tmp_path, monkeypatch, vod_audit):
    triggers = ("new", "findings", "failure", "always")
    with receiver() as got:
        notify = [
            {
                "name": on,
                "type": "webhook",
                "url_env": f"HOOK_{on.upper()}",
                "secret_env": "AUDIT_WEBHOOK_SECRET",
                "on": on,
            }
            for on in triggers
        ]
        manifest, data = setup(tmp_path, monkeypatch, got.url, notify)
        for on in triggers:
            monkeypatch.setenv(f"HOOK_{on.upper()}", f"{got.url}/{on}")
        out, state = tmp_path / "out", tmp_path / "s.db"
        heard = []
        for night in ("new", "ongoing", "resolved"):
            if night == "resolved":  # the expectation that failed is dropped: its finding is resolved
                document = yaml.safe_load(manifest.read_text())
                for job in document["jobs"]:
                    job.pop("expect", None)
                manifest.write_text(yaml.safe_dump(document, sort_keys=False))
            before = len(got.requests)
            vod_audit(*emulated_args(manifest, data, out, state))
            heard.append(sorted(r.path.lstrip("/") for r in got.requests[before:]))
            statuses = {
                n["channel"]: n["status"]
                for n in json.loads((out / "results.json").read_text())["notifications"]
            }
            assert sorted(name for name, status in statuses.items() if status == "sent") == heard[-1]
        assert heard == [["always", "findings", "new"], ["always", "findings"], ["always"]]
        assert json.loads((out / "results.json").read_text())["changes"]["resolved"] == 1


def test_a_failed_delivery_leaves_the_exit_code_and_says_why(tmp_path, monkeypatch, vod_audit):
    with receiver() as got:
        got.answers = [(500, b"busy"), (200, b'{"errcode":310000,"errmsg":"keywords not in content"}')]
        manifest, data = setup(tmp_path, monkeypatch, got.url, channels()[:1])
        out = tmp_path / "out"
        done = vod_audit(*emulated_args(manifest, data, out, tmp_path / "s.db"))
        assert done.returncode == 2  # as without the channel: one new finding
        why = f"{got.url[7:]} refused the message: code 310000 (2 attempts)"
        assert f"notify oncall (dingtalk, on new): failed ({why})" in done.stdout
        (record,) = json.loads((out / "results.json").read_text())["notifications"]
        assert (record["status"], record["why"], record["attempts"]) == ("failed", why, 2)


def test_a_bug_is_told_by_its_kind_only(tmp_path, monkeypatch, vod_audit):
    import audit.commands.run as run_command

    def broken(*args, **kwargs):
        raise RuntimeError(f"state at {tmp_path} said {TOKEN}")

    monkeypatch.setattr(run_command, "audit", broken)
    with receiver() as got:
        manifest, data = setup(tmp_path, monkeypatch, got.url, channels()[1:])
        done = vod_audit(*emulated_args(manifest, data, tmp_path / "out", tmp_path / "s.db"))
        assert done.returncode == 1 and "internal error: RuntimeError" in done.stderr
        (told,) = got.requests
        assert told.json()["failure"] == "an internal error (RuntimeError); the console of the run says more"
        assert TOKEN.encode() not in told.body and str(tmp_path).encode() not in told.body
