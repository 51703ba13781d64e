"""Classification of every failure: API codes of API-NOTES.md and broken transports or bodies."""

from __future__ import annotations

import json
import socket
import threading
import time

import pytest

from audit.common.jobtypes import JobRef
from audit.vod.client import VodClient, _interpret
from audit.vod.endpoints import resolve
from audit.vod.keys import Credentials
from audit.vod.records import Answer, ApiError
from tests.loopback import serve

# code, HTTP status, retryable, authentication, throttled
CODES = [
    ("SignatureDoesNotMatch", 400, False, True, False),
    ("IncompleteSignature", 400, False, True, False),
    ("InvalidAccessKeyId.NotFound", 404, False, True, False),
    ("InvalidAccessKeyId.Inactive", 400, False, True, False),
    ("InvalidTimeStamp.Format", 400, False, True, False),
    ("InvalidTimeStamp.Expired", 400, False, True, False),
    ("SignatureNonceUsed", 400, False, False, False),
    ("Throttling.User", 400, True, False, True),
    ("Throttling", 400, True, False, True),
    ("MissingParameter", 400, False, False, False),
    ("InvalidParameter", 400, False, False, False),
    ("OperationDenied", 403, False, True, False),
    ("OperationDenied.Suspended", 403, False, True, False),
    ("Forbidden", 403, False, True, False),
    ("Forbidden.RAM", 403, False, True, False),
    ("InternalError", 500, True, False, False),
    ("ServiceUnAvailable", 503, True, False, False),
]

JOB = JobRef("ai", "j")


@pytest.mark.parametrize(("code", "status", "retryable", "auth", "throttled"), CODES)
def test_api_error_codes(code, status, retryable, auth, throttled):
    body = json.dumps({"RequestId": "R", "HostId": "h", "Code": code, "Message": "m", "Recommend": "r"})
    error = _interpret(status, body.encode(), JOB)
    assert isinstance(error, ApiError)
    assert (error.code, error.status, error.request_id) == (code, status, "R")
    assert (error.retryable, error.authentication, error.throttled) == (retryable, auth, throttled)


def test_unknown_job_forms():
    named = _interpret(
        400, b'{"RequestId":"R","Code":"InvalidParameter","Message":"The JobId is invalid."}', JOB
    )
    other = _interpret(
        400, b'{"RequestId":"R","Code":"InvalidParameter","Message":"JobType is invalid."}', JOB
    )
    assert named.job_not_found and not other.job_not_found


@pytest.mark.parametrize(
    ("status", "content", "kind", "retryable"),
    [
        (200, b'{"RequestId": "R", "JobType": "tr', "body", True),  # truncated
        (200, b"<html>gateway</html>", "body", True),  # not JSON
        (200, b"[1, 2]", "body", True),  # JSON, not an object
        (200, b"\xff\xfe", "body", True),  # not UTF-8
        (502, b"<html>Bad Gateway</html>", "api", True),  # 5xx without JSON
        (404, b"not found", "api", False),
        (429, b"Too Many Requests", "api", True),  # a proxy's plain-text throttle page
        (200, b'{"RequestId":"R","Code":"InternalError","Message":"busy"}', "api", True),  # error in a 200
    ],
)
def test_broken_bodies(status, content, kind, retryable):
    result = _interpret(status, content, JOB)
    assert isinstance(result, ApiError)
    assert (result.kind, result.retryable) == (kind, retryable)


def test_a_good_body_is_an_answer():
    text = '{"RequestId":"R","JobType":"ai"}'
    assert _interpret(200, text.encode(), JOB) == Answer({"RequestId": "R", "JobType": "ai"}, 200, text)


def _client(url, timeout=2.0):
    return VodClient(resolve(endpoint=url), Credentials.of("AK", "S"), timeout=timeout)


def test_reset_connection_is_a_retryable_connection_error():
    with serve(lambda request: None) as (url, _):
        result = _client(url).get_job_detail(JobRef("ai", "j"))
    assert isinstance(result, ApiError) and (result.kind, result.retryable) == ("connection", True)


def test_slow_reply_is_a_retryable_timeout():
    with serve(lambda request: (time.sleep(1.0), (200, b"{}"))[1]) as (url, _):
        result = _client(url, timeout=0.2).get_job_detail(JobRef("ai", "j"))
    assert isinstance(result, ApiError) and (result.kind, result.retryable) == ("timeout", True)


def test_refused_connection_is_retryable():
    # Bound and never listening, held for the whole call: the port refuses, and nothing else can take it.
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = _client(f"http://127.0.0.1:{port}").get_job_detail(JobRef("ai", "j"))
    assert isinstance(result, ApiError) and (result.kind, result.retryable) == ("connection", True)


def test_body_cut_short_of_its_content_length_is_retryable():
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def serve_once():
        connection, _ = listener.accept()
        connection.recv(65536)
        connection.sendall(
            b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{"Req'
        )
        connection.close()

    threading.Thread(target=serve_once, daemon=True).start()
    result = _client(f"http://127.0.0.1:{listener.getsockname()[1]}").get_job_detail(JobRef("ai", "j"))
    listener.close()
    assert isinstance(result, ApiError) and result.retryable and result.kind in ("connection", "body")
