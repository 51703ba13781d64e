"""Every gateway error, provoked by raw hand-built requests (tampered, replayed, stale, unknown)."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
import requests

from audit.common.timeutil import format_utc
from audit.vod.signing import canonical_query, sign_v1, sign_v3

KEY, SECRET = "emulator-ak", "emulator-secret"


def v3_request(
    url,
    *,
    job_id="x",
    job_type="ai",
    key=KEY,
    secret=SECRET,
    date=None,
    nonce=None,
    token=None,
    action="GetJobDetail",
    version="2017-03-21",
):
    query = {"JobId": job_id, "JobType": job_type}
    headers = sign_v3(
        method="POST",
        host=url.removeprefix("http://"),
        query=query,
        action=action,
        version=version,
        body=b"",
        access_key_id=key,
        access_key_secret=secret,
        security_token=token,
        date=date or format_utc(datetime.now(UTC)),
        nonce=nonce or uuid.uuid4().hex,
    )
    return f"{url}/?{canonical_query(query)}", query, headers


def v1_params(*, key=KEY, secret=SECRET, method="GET", timestamp=None, nonce=None, extra=None):
    return sign_v1(
        method=method,
        params={"JobId": "x", "JobType": "ai", **(extra or {})},
        action="GetJobDetail",
        version="2017-03-21",
        access_key_id=key,
        access_key_secret=secret,
        security_token=None,
        timestamp=timestamp or format_utc(datetime.now(UTC)),
        nonce=nonce or uuid.uuid4().hex,
    )


def error_of(response):
    document = response.json()
    assert set(document) == {"RequestId", "HostId", "Code", "Message", "Recommend"}
    return response.status_code, document["Code"]


@pytest.fixture
def url(start_emulator):
    return start_emulator(qps=0).url


def test_v3_and_v1_good_requests_pass(url):
    address, _, headers = v3_request(url)
    assert requests.post(address, headers=headers, timeout=5).status_code == 200
    params = v1_params()
    assert requests.get(f"{url}/?{canonical_query(params)}", timeout=5).status_code == 200


def test_tampered_query(url):
    _, _, headers = v3_request(url, job_id="mine")
    response = requests.post(f"{url}/?JobId=theirs&JobType=ai", headers=headers, timeout=5)
    assert error_of(response) == (400, "SignatureDoesNotMatch")
    assert response.json()["Message"].startswith(
        "Specified signature is not matched with our calculation. server string to sign is:ACS3-HMAC-SHA256\n"
    )


def test_tampered_header(url):
    address, _, headers = v3_request(url)
    headers["x-acs-version"] = "2017-03-22"
    assert error_of(requests.post(address, headers=headers, timeout=5)) == (400, "InvalidVersion")
    address, _, headers = v3_request(url)
    headers["x-acs-date"] = format_utc(datetime.now(UTC) + timedelta(seconds=1))
    assert error_of(requests.post(address, headers=headers, timeout=5)) == (400, "SignatureDoesNotMatch")


def test_unsigned_acs_header_is_incomplete(url):
    address, _, headers = v3_request(url)
    headers["x-acs-extra"] = "smuggled"
    assert error_of(requests.post(address, headers=headers, timeout=5)) == (400, "IncompleteSignature")


def test_body_hash_mismatch(url):
    address, _, headers = v3_request(url)
    assert error_of(requests.post(address, headers=headers, data=b"JobId=other", timeout=5)) == (
        400,
        "IncompleteSignature",
    )


def test_tampered_v1_parameter(url):
    params = v1_params()
    params["JobId"] = "someone-else"
    response = requests.get(f"{url}/?{canonical_query(params)}", timeout=5)
    assert error_of(response) == (400, "SignatureDoesNotMatch")
    assert response.json()["Message"].endswith(response.json()["Message"].split("is:")[1])
    assert response.json()["Message"].split("is:")[1].startswith("GET&%2F&AccessKeyId%3D")


def test_replayed_nonce(url):
    address, _, headers = v3_request(url, nonce="fixed-nonce-1")
    assert requests.post(address, headers=headers, timeout=5).status_code == 200
    assert error_of(requests.post(address, headers=headers, timeout=5)) == (400, "SignatureNonceUsed")
    params = v1_params(nonce="fixed-nonce-2")
    assert requests.get(f"{url}/?{canonical_query(params)}", timeout=5).status_code == 200
    assert error_of(requests.get(f"{url}/?{canonical_query(params)}", timeout=5)) == (
        400,
        "SignatureNonceUsed",
    )


@pytest.mark.parametrize("skew", [timedelta(minutes=16), -timedelta(minutes=16), timedelta(days=2)])
def test_stale_or_future_date(url, skew):
    address, _, headers = v3_request(url, date=format_utc(datetime.now(UTC) - skew))
    assert error_of(requests.post(address, headers=headers, timeout=5)) == (400, "InvalidTimeStamp.Expired")
    params = v1_params(timestamp=format_utc(datetime.now(UTC) - skew))
    assert error_of(requests.get(f"{url}/?{canonical_query(params)}", timeout=5)) == (
        400,
        "InvalidTimeStamp.Expired",
    )


def test_malformed_date(url):
    params = v1_params(timestamp="24 Nov 2026")
    assert error_of(requests.get(f"{url}/?{canonical_query(params)}", timeout=5)) == (
        400,
        "InvalidTimeStamp.Format",
    )


def test_unknown_access_key(url):
    address, _, headers = v3_request(url, key="nobody", secret="x")
    assert error_of(requests.post(address, headers=headers, timeout=5)) == (
        404,
        "InvalidAccessKeyId.NotFound",
    )
    params = v1_params(key="nobody")
    assert error_of(requests.get(f"{url}/?{canonical_query(params)}", timeout=5)) == (
        404,
        "InvalidAccessKeyId.NotFound",
    )


def test_unsigned_request(url):
    assert error_of(requests.get(f"{url}/?JobId=x&JobType=ai", timeout=5)) == (400, "IncompleteSignature")


def test_wrong_action(url):
    address, _, headers = v3_request(url, action="GetVideoPlayAuth")
    assert error_of(requests.post(address, headers=headers, timeout=5)) == (404, "InvalidAction.NotFound")


@pytest.mark.parametrize(
    ("job_id", "job_type", "expected"),
    [
        ("", "ai", (400, "MissingParameter")),
        ("x", "", (400, "MissingParameter")),
        ("x", "Transcode", (400, "InvalidParameter")),
        ("x", "live", (400, "InvalidParameter")),
    ],
)
def test_bad_parameters(url, job_id, job_type, expected):
    address, _, headers = v3_request(url, job_id=job_id, job_type=job_type)
    response = requests.post(address, headers=headers, timeout=5)
    assert error_of(response) == expected
    assert ("JobId" if not job_id else "JobType") in response.json()["Message"]


def test_sts_token_is_checked(start_emulator):
    url = start_emulator(qps=0, security_token="STS.good").url
    for token, expected in (
        (None, "InvalidSecurityToken.Malformed"),
        ("STS.bad", "InvalidSecurityToken.MismatchWithAccessKey"),
    ):
        address, _, headers = v3_request(url, token=token)
        assert error_of(requests.post(address, headers=headers, timeout=5)) == (400, expected)
    address, _, headers = v3_request(url, token="STS.good")
    assert requests.post(address, headers=headers, timeout=5).status_code == 200
