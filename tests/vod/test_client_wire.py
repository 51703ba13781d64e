"""The client on the real wire: a loopback server recomputes each signature with the official SDKs."""

from __future__ import annotations

import json
import logging
from urllib.parse import parse_qsl

import pytest

from audit.common.jobtypes import JobRef
from audit.vod.client import VodClient
from audit.vod.endpoints import resolve
from audit.vod.keys import Credentials
from audit.vod.records import Answer, ApiError
from audit.vod.signing import sha256_hex
from tests.loopback import Received, serve
from tests.vod import sdk_oracle

SECRET = "wire-Secret-5e3c/+=&"
TOKEN = "STS.wire-token-CAIS+9f8e7d6c5b4a"


def sdk_verifies(request: Received, secret: str) -> bool:
    """Recomputes the signature of a received request with the SDK that the service's clients use."""
    if "authorization" in request.headers:
        auth = request.headers["authorization"]
        signed = auth.split("SignedHeaders=")[1].split(",")[0].split(";")
        headers = {name: request.headers[name] for name in signed}
        key_id = auth.split("Credential=")[1].split(",")[0]
        if request.headers["x-acs-content-sha256"] != sha256_hex(request.body):
            return False
        return auth == sdk_oracle.v3_authorization(
            request.method, request.query, headers, sha256_hex(request.body), key_id, secret
        )
    params = {**request.query, **dict(parse_qsl(request.body.decode(), keep_blank_values=True))}
    return params.get("Signature") == sdk_oracle.v1_signature(request.method, params, secret)


def gateway(secret: str):
    def answer(request: Received):
        if not sdk_verifies(request, secret):
            return 400, json.dumps(
                {"RequestId": "R1", "Code": "SignatureDoesNotMatch", "Message": "no"}
            ).encode()
        params = {**request.query, **dict(parse_qsl(request.body.decode()))}
        body = {"RequestId": "R2", "JobType": params["JobType"], "Echo": params["JobId"]}
        return 200, json.dumps(body).encode()

    return answer


@pytest.mark.parametrize("signature", ["v3", "v1"])
@pytest.mark.parametrize("token", [None, TOKEN])
def test_signed_requests_verify_with_the_sdk(signature, token):
    with serve(gateway(SECRET)) as (url, seen):
        client = VodClient(
            resolve(endpoint=url), Credentials.of("AKID-wire", SECRET, token), signature=signature
        )
        job = JobRef("transcode", "id with spaces*~/+=é")
        result = client.get_job_detail(job)
        assert isinstance(result, Answer), result
        assert result.body["Echo"] == job.job_id
        sent = seen[0]
        assert sent.method == "POST"
        if signature == "v3":
            assert sent.headers.get("x-acs-security-token") == token
        else:
            form = dict(parse_qsl(sent.body.decode()))
            assert form.get("SecurityToken") == token
            assert sent.query == {}  # nothing sensitive in the URL


@pytest.mark.parametrize("signature", ["v3", "v1"])
@pytest.mark.parametrize(
    ("action", "params"),
    [
        (
            "SearchMedia",
            {
                "SearchType": "video",
                "Match": "CreationTime = ('2026-11-28T00:00:00Z','2026-11-29T00:00:00Z') and Tags in ('a b','ü')",
                "PageNo": "2",
                "PageSize": "100",
                "ScrollToken": "tok+/=",
            },
        ),
        ("ListJobInfo", {"MediaId": "m 1*~", "JobType": "snapshot"}),
    ],
)
def test_discovery_calls_are_signed_as_the_sdk_signs_them(signature, action, params):
    def answer(request: Received):
        sent = {**request.query, **dict(parse_qsl(request.body.decode()))}
        ok = sdk_verifies(request, SECRET) and all(sent.get(k) == v for k, v in params.items())
        return (
            (200, b'{"RequestId": "R3", "Total": 0}') if ok else (400, b'{"Code": "SignatureDoesNotMatch"}')
        )

    with serve(answer) as (url, seen):
        client = VodClient(
            resolve(endpoint=url), Credentials.of("AKID-wire", SECRET, TOKEN), signature=signature
        )
        result = client.call(action, params)
        assert isinstance(result, Answer), result
        action_sent = seen[0].headers.get("x-acs-action") or dict(parse_qsl(seen[0].body.decode()))["Action"]
        assert action_sent == action


@pytest.mark.parametrize("signature", ["v3", "v1"])
def test_wrong_secret_is_refused_as_authentication(signature):
    with serve(gateway(SECRET)) as (url, _):
        client = VodClient(
            resolve(endpoint=url), Credentials.of("AKID-wire", "not-the-secret"), signature=signature
        )
        result = client.get_job_detail(JobRef("ai", "j1"))
        assert isinstance(result, ApiError)
        assert (result.code, result.status, result.authentication, result.retryable) == (
            "SignatureDoesNotMatch",
            400,
            True,
            False,
        )


def test_debug_logs_never_carry_the_secret_or_token(caplog):
    caplog.set_level(logging.DEBUG)
    logging.getLogger().setLevel(logging.DEBUG)
    with serve(gateway(SECRET)) as (url, _):
        for signature in ("v3", "v1"):
            client = VodClient(
                resolve(endpoint=url), Credentials.of("AKID-wire", SECRET, TOKEN), signature=signature
            )
            assert isinstance(client.get_job_detail(JobRef("snapshot", "j2")), Answer)
            assert "Secret('***')" in repr(client._keys.current().access_key_secret)
            assert SECRET not in repr(client._keys.current()) and TOKEN not in repr(client._keys.current())
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "GetJobDetail snapshot j2" in text  # the capture did see the client's own debug lines
    assert "POST /" in text  # and urllib3's
    assert SECRET not in text and TOKEN not in text


def test_error_messages_are_scrubbed_of_credentials():
    from urllib.parse import quote

    echoed = (
        f"token {TOKEN} or {quote(TOKEN, safe='')} or {quote(quote(TOKEN, safe=''), safe='')} secret {SECRET}"
    )
    message = f"{echoed}. server string to sign is:POST&%2F&SecurityToken%3D{TOKEN}"

    def answer(request):
        return 400, json.dumps(
            {"RequestId": "R", "Code": "SignatureDoesNotMatch", "Message": message}
        ).encode()

    with serve(answer) as (url, _):
        client = VodClient(resolve(endpoint=url), Credentials.of("AK", SECRET, TOKEN), signature="v1")
        result = client.get_job_detail(JobRef("ai", "j"))
    assert TOKEN not in result.message and SECRET not in result.message
    assert quote(TOKEN, safe="") not in result.message
    assert result.message.endswith("string to sign is: (withheld: it carries the signed request parameters)")
    assert result.message.startswith("token *** or *** or *** secret ***")
