"""Signatures: Alibaba's published vectors, and equality with both official SDKs on random input."""

from __future__ import annotations

import hashlib
import string

from hypothesis import given, settings
from hypothesis import strategies as st

from audit.vod.signing import (
    canonical_query,
    percent_encode,
    sign_v1,
    sign_v3,
    v1_signature,
    v1_string_to_sign,
    v3_signature,
    v3_string_to_sign,
)
from tests.vod import sdk_oracle

EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


def test_v3_published_vector():
    headers = {
        "host": "ecs.cn-shanghai.aliyuncs.com",
        "x-acs-action": "RunInstances",
        "x-acs-version": "2014-05-26",
        "x-acs-date": "2023-10-26T10:22:32Z",
        "x-acs-signature-nonce": "3156853299f313e23d1673dc12e1703d",
        "x-acs-content-sha256": EMPTY_SHA256,
    }
    query = {"ImageId": "win2019_1809_x64_dtc_zh-cn_40G_alibase_20230811.vhd", "RegionId": "cn-shanghai"}
    string_to_sign, signed = v3_string_to_sign("POST", "/", query, headers, headers, EMPTY_SHA256)
    assert signed == "host;x-acs-action;x-acs-content-sha256;x-acs-date;x-acs-signature-nonce;x-acs-version"
    assert (
        v3_signature("YourAccessKeySecret", string_to_sign)
        == "06563a9e1b43f5dfe96b81484da74bceab24a1d853912eee15083a6f0f3283c0"
    )


def test_v1_published_vector():
    params = {
        "Action": "DescribeRegions",
        "Version": "2014-05-26",
        "Format": "XML",
        "AccessKeyId": "testid",
        "SignatureMethod": "HMAC-SHA1",
        "SignatureVersion": "1.0",
        "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
        "Timestamp": "2016-02-23T12:46:24Z",
    }
    assert v1_signature("testsecret", v1_string_to_sign("GET", params)) == "OLeaidS1JvxuMvnyHOwuJ+uX5qY="


def test_percent_encoding_rules():
    assert percent_encode("a b*c~d-e_f.g/h+i=j") == "a%20b%2Ac~d-e_f.g%2Fh%2Bi%3Dj"
    assert percent_encode("é") == "%C3%A9"
    assert canonical_query({"b": "2", "a": "1 1"}) == "a=1%201&b=2"
    # Values already unreserved are returned as they are; anything else, newline included, encoded.
    assert percent_encode("Abc-1_2.3~") == "Abc-1_2.3~"
    assert percent_encode("abc\n") == "abc%0A" and percent_encode("") == ""


@given(st.text())
def test_percent_encoding_is_rfc3986_for_any_text(value):
    encoded = percent_encode(value)
    assert encoded == "".join(
        c
        if c in string.ascii_letters + string.digits + "-_.~"
        else "".join(f"%{b:02X}" for b in c.encode("utf-8", "surrogatepass"))
        for c in value
    )


job_ids = st.text(
    alphabet=st.sampled_from(string.ascii_letters + string.digits + " *~/+=&%-_.") | st.characters(),
    min_size=1,
    max_size=40,
).filter(lambda s: "\x00" not in s)
secrets = st.text(min_size=1, max_size=40).filter(lambda s: "\x00" not in s)
key_ids = st.text(alphabet=string.ascii_letters + string.digits, min_size=4, max_size=24)
dates = st.datetimes().map(lambda d: d.strftime("%Y-%m-%dT%H:%M:%SZ"))
nonces = st.text(alphabet="0123456789abcdef-", min_size=8, max_size=36)
tokens = st.none() | st.text(alphabet=string.ascii_letters + string.digits + "+/=", min_size=1, max_size=80)
job_types = st.sampled_from(["transcode", "snapshot", "ai", "workflow"])


@settings(max_examples=250, deadline=None, derandomize=True)
@given(job_ids, job_types, key_ids, secrets, dates, nonces, tokens)
def test_v3_equals_tea_openapi(job_id, job_type, key_id, secret, date, nonce, token):
    query = {"JobId": job_id, "JobType": job_type}
    headers = sign_v3(
        method="POST",
        host="vod.cn-shanghai.aliyuncs.com",
        query=query,
        action="GetJobDetail",
        version="2017-03-21",
        body=b"",
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        date=date,
        nonce=nonce,
    )
    ours = headers.pop("Authorization")
    assert ours == sdk_oracle.v3_authorization("POST", query, headers, EMPTY_SHA256, key_id, secret)
    assert ("x-acs-security-token" in headers) == bool(token)


@settings(max_examples=250, deadline=None, derandomize=True)
@given(job_ids, job_types, key_ids, secrets, dates, nonces, tokens, st.sampled_from(["GET", "POST"]))
def test_v1_equals_aliyunsdkcore(job_id, job_type, key_id, secret, date, nonce, token, method):
    signed = sign_v1(
        method=method,
        params={"JobId": job_id, "JobType": job_type},
        action="GetJobDetail",
        version="2017-03-21",
        access_key_id=key_id,
        access_key_secret=secret,
        security_token=token,
        timestamp=date,
        nonce=nonce,
    )
    assert signed["Signature"] == sdk_oracle.v1_signature(method, signed, secret)
    assert ("SecurityToken" in signed) == bool(token)


@settings(max_examples=100, deadline=None, derandomize=True)
@given(job_ids, secrets, dates, nonces)
def test_v3_with_every_sent_header_signed_like_the_sdk(job_id, secret, date, nonce):
    """The SDK signs accept and user-agent too: a verifier that follows SignedHeaders must agree."""
    headers = {
        "host": "127.0.0.1:8080",
        "x-acs-action": "GetJobDetail",
        "x-acs-version": "2017-03-21",
        "x-acs-date": date,
        "x-acs-signature-nonce": nonce,
        "x-acs-content-sha256": EMPTY_SHA256,
        "accept": "application/json",
        "user-agent": "AlibabaCloud (Linux) Python/3.11 Core/0.4",
    }
    query = {"JobId": job_id, "JobType": "ai"}
    sdk = sdk_oracle.v3_authorization("POST", query, headers, EMPTY_SHA256, "AK", secret)
    string_to_sign, signed = v3_string_to_sign("POST", "/", query, headers, headers, EMPTY_SHA256)
    assert (
        sdk
        == f"ACS3-HMAC-SHA256 Credential=AK,SignedHeaders={signed},Signature={v3_signature(secret, string_to_sign)}"
    )
