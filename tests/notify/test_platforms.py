"""Issue #27: each platform's request as its documentation describes it, captured at the transport
(the hosts are fixed and out of reach), and its answers read as the platform means them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import subprocess
from pathlib import Path
from urllib.parse import parse_qs, quote_plus, urlsplit

import jsonschema

from audit.common.schemafiles import schema_document
from audit.notify.send import Options, tell_run
from tests.notify.capture import Capture, answer
from tests.notify.records import HOSTILE, failing, spec

NOW = 1_795_000_000.25  # the clock the messages are signed at
TOKEN = "9f3c1d2e4b5a69788796a5b4c3d2e1f0"  # a robot's access token: a secret, never shown
SECRET = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd"
URLS = {
    "dingtalk": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
    "feishu": f"https://open.feishu.cn/open-apis/bot/v2/hook/{TOKEN}",
    "wecom": f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={TOKEN}",
    "slack": f"https://hooks.slack.com/services/T0001/B0001/{TOKEN}",
    "webhook": f"https://audit-receiver.example/hooks/{TOKEN}",
}


def send(kind, run, *answers, **fields):
    capture, sleeps = Capture(*answers), []
    env = {"URL": URLS[kind], "SECRET": SECRET}
    told = tell_run(
        run, [spec(kind, **fields)], Options(), env, adapter=capture, sleep=sleeps.append, now=lambda: NOW
    )
    record = told[0].record
    assert TOKEN not in record.why and SECRET not in record.why
    return record, capture, sleeps


def openssl_hmac(key: bytes, message: bytes) -> bytes:
    """HMAC-SHA256 by OpenSSL's command line: an implementation independent of Python's."""
    done = subprocess.run(
        ["openssl", "dgst", "-sha256", "-mac", "HMAC", "-macopt", f"hexkey:{key.hex()}", "-binary"],
        input=message,
        capture_output=True,
        check=True,
    )
    return done.stdout


def test_dingtalk_signs_the_url_as_its_security_page_says_and_sends_markdown():
    record, capture, _ = send("dingtalk", failing(3), answer({"errcode": 0, "errmsg": "ok"}))
    assert record.status == "sent" and record.attempts == 1
    request = capture.requests[0]
    assert request.method == "POST" and request.headers["Content-Type"].startswith("application/json")
    query = parse_qs(urlsplit(request.url).query)
    assert urlsplit(request.url).netloc == "oapi.dingtalk.com" and query["access_token"] == [TOKEN]
    stamp = query["timestamp"][0]
    assert stamp == str(int(NOW * 1000))  # milliseconds
    # sign = urlEncode(Base64(HmacSHA256(key=secret, message=timestamp + "\n" + secret)))
    digest = openssl_hmac(SECRET.encode(), f"{stamp}\n{SECRET}".encode())
    assert f"sign={quote_plus(base64.b64encode(digest).decode())}" in request.url
    body = json.loads(request.body)
    assert body["msgtype"] == "markdown" and set(body["markdown"]) == {"title", "text"}
    text = body["markdown"]["text"]
    assert "FAIL: 3 jobs with findings (3 new); gate --fail-on any: failed, exit 2" in text
    assert "`j0000`" in text and "Needs action (3)" in text


def test_feishu_signs_with_the_reversed_key_and_message_in_the_body():
    record, capture, _ = send("feishu", failing(2), answer({"code": 0, "msg": "success", "data": {}}))
    assert record.status == "sent"
    body = json.loads(capture.requests[0].body)
    assert body["timestamp"] == str(int(NOW))  # seconds, not milliseconds
    # sign = Base64(HmacSHA256(key=timestamp + "\n" + secret, message=""))
    digest = openssl_hmac(f"{body['timestamp']}\n{SECRET}".encode(), b"")
    assert body["sign"] == base64.b64encode(digest).decode()
    dingtalk_way = hmac.new(SECRET.encode(), f"{body['timestamp']}\n{SECRET}".encode(), hashlib.sha256)
    assert body["sign"] != base64.b64encode(dingtalk_way.digest()).decode()
    assert body["msg_type"] == "interactive" and body["card"]["header"]["title"]["tag"] == "plain_text"


def test_an_error_code_under_http_200_is_a_failure_not_a_success():
    refusals = {
        "dingtalk": {"errcode": 310000, "errmsg": "sign not match"},
        "feishu": {
            "code": 19021,
            "msg": "sign match fail or timestamp is not within one hour from current time",
        },
        "wecom": {"errcode": 45009, "errmsg": "api freq out of limit"},
    }
    for kind, body in refusals.items():
        record, capture, _ = send(kind, failing(1), answer(body))
        code = str(body.get("errcode", body.get("code")))
        assert record.status == "failed" and code in record.why, (kind, record)
        assert len(capture.requests) == 1  # a refusal is not retried into the platform's limit
    record, _, _ = send("dingtalk", failing(1), answer(b"<html>gateway</html>"))
    assert record.status == "failed" and "not JSON" in record.why


def test_wecom_markdown_stays_within_4096_bytes_and_counts_the_rest():
    long = "Status is TranscodeFail, expected TranscodeSuccess; " * 3
    _, capture, _ = send("wecom", failing(100, said=long), answer({"errcode": 0}), max_jobs=100)
    content = json.loads(capture.requests[0].body)["markdown"]["content"]
    assert len(content.encode("utf-8")) <= 4096
    named = content.count("\n- new drift transcode")
    assert 0 < named < 100 and f"- and {100 - named} more" in content


def test_feishu_body_stays_within_20_kb_and_slack_within_its_block_limits():
    long = "实际状态与期望不同 " * 20  # three bytes a character
    record, capture, _ = send("feishu", failing(100, said=long), answer({"code": 0}), max_jobs=100)
    assert len(capture.requests[0].body) <= 20_000 and "more" in capture.requests[0].body.decode()
    record, capture, _ = send("slack", failing(100, said=long), answer(b"ok"), max_jobs=100)
    body = json.loads(capture.requests[0].body)
    assert record.status == "sent" and len(body["blocks"]) <= 50
    assert len(body["blocks"][0]["text"]["text"]) <= 150
    sections = [b["text"]["text"] for b in body["blocks"] if b["type"] == "section"]
    assert all(len(text) <= 3000 for text in sections)
    named = sum(text.count("new drift transcode j") for text in sections)
    assert named == 100 or f"and {100 - named} more" in sections[-1]


def test_nothing_from_the_api_can_format_link_or_mention():
    run = failing(1, said=HOSTILE, job_id="id`<@all>[x](https://evil.example)")
    _, capture, _ = send("dingtalk", run, answer({"errcode": 0}))
    text = json.loads(capture.requests[0].body)["markdown"]["text"]
    for dangerous in ("<@all>", "](https://evil.example)", "<font"):
        assert dangerous not in text
    _, capture, _ = send("wecom", run, answer({"errcode": 0}))
    assert "<@all>" not in json.loads(capture.requests[0].body)["markdown"]["content"]
    for kind in ("slack", "feishu"):
        _, capture, _ = send(kind, run, answer({"code": 0} if kind == "feishu" else b"ok"))
        raw = capture.requests[0].body.decode()
        assert "mrkdwn" not in raw and "lark_md" not in raw  # every text is plain_text
        assert HOSTILE[:20] in json.loads(raw).__str__()  # said as it is, only never interpreted


def test_retries_back_off_and_honour_retry_after_then_give_up_in_bounds():
    record, _, sleeps = send(
        "slack", failing(1), answer(b"rate_limited", 429, **{"Retry-After": "3"}), answer(b"ok")
    )
    assert record.status == "sent" and record.attempts == 2 and sleeps == [3.0]
    record, _, sleeps = send("webhook", failing(1), answer(b"upstream down", 503))
    assert record.status == "failed" and record.attempts == 4 and sleeps == [1.0, 2.0, 4.0]
    assert record.why == "HTTP 503 from audit-receiver.example (4 attempts)"  # never the page (#38)
    record, _, sleeps = send("slack", failing(1), answer(b"invalid_payload", 400))
    assert record.status == "failed" and record.attempts == 1 and "invalid_payload" in record.why
    record, _, sleeps = send("slack", failing(1), answer(b"slow down", 429, **{"Retry-After": "3600"}))
    assert record.status == "failed" and sleeps == [] and "asked to wait 3600 s" in record.why


def test_the_webhook_body_follows_its_schema_and_its_signature_verifies_as_a_receiver_would():
    _, capture, _ = send(
        "webhook", failing(12), answer(b"", 204), report_url="https://ci.example/{run_id}/r.html"
    )
    request = capture.requests[0]
    jsonschema.validate(json.loads(request.body), schema_document("notification"))
    stamp = request.headers["X-Vod-Audit-Timestamp"]
    expected = hmac.new(SECRET.encode(), stamp.encode() + b"." + request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-Vod-Audit-Signature"], f"v1={expected}")
    body = json.loads(request.body)
    assert body["more"] == 2 and len(body["jobs"]) == 10 and body["needing_action"] == 12
    assert body["report_url"] == "https://ci.example/20261124T010000Z-abc123/r.html"


def test_the_documented_webhook_body_follows_the_schema():
    page = (Path(__file__).parents[2] / "docs" / "notifications.md").read_text()
    example = page.split("```json\n", 1)[1].split("```", 1)[0]
    jsonschema.validate(json.loads(example), schema_document("notification"))


def test_every_channel_type_is_registered_allowed_and_documented_with_an_example():
    from audit.common.channels import SIGNED_BY
    from audit.notify import CHANNELS

    manifest = schema_document("manifest")
    assert (
        set(CHANNELS)
        == set(SIGNED_BY)
        == set(manifest["properties"]["notify"]["items"]["properties"]["type"]["enum"])
    )
    docs = Path(__file__).parents[2] / "docs"
    for kind in SIGNED_BY:
        page = (docs / "notify" / f"{kind}.md").read_text()
        assert f"type: {kind}" in page and f"vod-audit notify reports/results.json --channel {kind}" in page
        assert f"notify/{kind}.md" in (docs / "notifications.md").read_text()


def test_a_receiver_that_errs_refuses_or_hangs_ends_each_delivery_in_bounds():
    import socket

    from tests.notify.receiver import receiver

    with receiver() as got:
        got.answers = [(500, b"busy"), (200, b'{"errcode":310000,"errmsg":"sign not match"}')]
        sleeps: list[float] = []
        env = {"URL": f"{got.url}/robot/send?access_token={TOKEN}", "SECRET": SECRET}
        told = tell_run(failing(1), [spec("dingtalk")], Options(), env, sleep=sleeps.append)
        record = told[0].record
        assert (record.status, record.attempts, sleeps) == ("failed", 2, [1.0])
        assert record.why == f"{got.url[7:]} refused the message: code 310000 (2 attempts)"
    with socket.socket() as hanging:  # takes the connection, never answers
        hanging.bind(("127.0.0.1", 0))
        hanging.listen(8)
        url = f"http://127.0.0.1:{hanging.getsockname()[1]}/hook"
        sleeps = []
        told = tell_run(
            failing(1),
            [spec("webhook")],
            Options(timeout=0.5),
            {"URL": url, "SECRET": SECRET},
            sleep=sleeps.append,
        )
        record = told[0].record
        assert (record.status, record.attempts, sleeps) == ("failed", 4, [1.0, 2.0, 4.0])
        assert record.why == f"no answer from 127.0.0.1:{hanging.getsockname()[1]} within 0.5 s (4 attempts)"
