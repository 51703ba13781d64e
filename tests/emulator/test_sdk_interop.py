"""Both official SDKs, unchanged and pointed at the emulator over http, work as against the service."""

from __future__ import annotations

import json

import pytest
from alibabacloud_tea_openapi.utils_models import Config
from alibabacloud_vod20170321 import models as vod_models
from alibabacloud_vod20170321.client import Client as NewClient
from aliyunsdkcore.acs_exception.exceptions import ServerException
from aliyunsdkcore.client import AcsClient
from aliyunsdkvod.request.v20170321.GetJobDetailRequest import GetJobDetailRequest

from audit.emulator.data import job_identity
from tests.conftest import sample_jobs

# Slow tier (make test runs it, make test-fast leaves it out): real processes, servers and waits.
pytestmark = pytest.mark.slow


def new_sdk(url, secret="emulator-secret", token=None):
    config = Config(
        access_key_id="emulator-ak",
        access_key_secret=secret,
        security_token=token,
        endpoint=url.removeprefix("http://"),
        protocol="http",
        region_id="cn-shanghai",
    )
    return NewClient(config)


def old_sdk_call(url, job_type, job_id, secret="emulator-secret"):
    client = AcsClient("emulator-ak", secret, "cn-shanghai", auto_retry=False)
    request = GetJobDetailRequest()
    request.set_JobType(job_type)
    request.set_JobId(job_id)
    request.set_protocol_type("http")
    request.set_endpoint(url.removeprefix("http://"))
    return json.loads(client.do_action_with_exception(request))


@pytest.mark.parametrize("stored", sample_jobs(), ids=lambda b: b["JobType"])
def test_new_sdk_v3_gets_the_stored_body(start_emulator, stored):
    emulator = start_emulator(qps=0)
    job_type, job_id = job_identity(stored)
    response = new_sdk(emulator.url).get_job_detail(
        vod_models.GetJobDetailRequest(job_id=job_id, job_type=job_type)
    )
    received = response.body.to_map()
    assert received.pop("RequestId")
    assert received == stored
    assert emulator.counters.snapshot()["by_outcome"] == {"ok": 1}


@pytest.mark.parametrize("stored", sample_jobs(), ids=lambda b: b["JobType"])
def test_old_sdk_v1_gets_the_stored_body(start_emulator, stored):
    emulator = start_emulator(qps=0)
    job_type, job_id = job_identity(stored)
    received = old_sdk_call(emulator.url, job_type, job_id)
    assert received.pop("RequestId")
    assert received == stored


def test_new_sdk_with_sts_token(start_emulator):
    emulator = start_emulator(qps=0, security_token="STS.token-123")
    stored = sample_jobs()[0]
    job_type, job_id = job_identity(stored)
    ok = new_sdk(emulator.url, token="STS.token-123").get_job_detail(
        vod_models.GetJobDetailRequest(job_id=job_id, job_type=job_type)
    )
    assert ok.body.job_type == job_type
    with pytest.raises(Exception) as caught:
        new_sdk(emulator.url, token="STS.other").get_job_detail(
            vod_models.GetJobDetailRequest(job_id=job_id, job_type=job_type)
        )
    assert "InvalidSecurityToken" in str(caught.value)


def test_new_sdk_wrong_secret_is_signature_does_not_match(start_emulator):
    emulator = start_emulator(qps=0)
    with pytest.raises(Exception) as caught:
        new_sdk(emulator.url, secret="wrong").get_job_detail(
            vod_models.GetJobDetailRequest(job_id="x", job_type="ai")
        )
    assert getattr(caught.value, "code", None) == "SignatureDoesNotMatch"
    assert "server string to sign is:ACS3-HMAC-SHA256\n" in str(getattr(caught.value, "message", ""))


def test_old_sdk_wrong_secret_becomes_invalid_access_key_secret(start_emulator):
    """The old SDK compares the server's string to sign with its own, as API-NOTES.md describes."""
    emulator = start_emulator(qps=0)
    with pytest.raises(ServerException) as caught:
        old_sdk_call(emulator.url, "ai", "x", secret="wrong")
    assert caught.value.get_error_code() == "InvalidAccessKeySecret"
    assert caught.value.get_http_status() == 400
