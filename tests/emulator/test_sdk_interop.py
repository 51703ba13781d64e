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
from tests.bodies import OBJECTS
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


def test_both_sdks_search_media_and_list_job_info_unchanged(start_emulator):
    # Discovery's operations: the official SDKs' own request and response models, against the
    # emulator, agree with what discovery reads (MediaList, Total, ScrollToken; JobInfoList).
    from aliyunsdkvod.request.v20170321.ListJobInfoRequest import ListJobInfoRequest
    from aliyunsdkvod.request.v20170321.SearchMediaRequest import SearchMediaRequest

    emulator = start_emulator(qps=0)
    media_id = sample_jobs()[0]["TranscodeJobDetail"]["VideoId"]
    client = new_sdk(emulator.url)
    found = client.search_media(
        vod_models.SearchMediaRequest(
            search_type="video",
            match="CreationTime = ('2000-01-01T00:00:00Z','2100-01-01T00:00:00Z')",
            sort_by="CreationTime:Asc",
            page_no=1,
            page_size=100,
        )
    ).body
    assert (found.total, [m.media_id for m in found.media_list]) == (1, [media_id])
    assert found.scroll_token and found.media_list[0].video.video_id == media_id
    for job_type in ("transcode", "snapshot", "ai"):
        listed = client.list_job_info(
            vod_models.ListJobInfoRequest(media_id=media_id, job_type=job_type)
        ).body
        stored = next(b for b in sample_jobs() if b["JobType"] == job_type)
        detail = stored[OBJECTS[job_type]]
        assert (listed.media_id, listed.job_type) == (media_id, job_type)
        assert [(j.job_id, j.status, j.create_time) for j in listed.job_info_list] == [
            (detail["JobId"], detail["Status"], detail["CreateTime"])
        ]
    old = AcsClient("emulator-ak", "emulator-secret", "cn-shanghai", auto_retry=False)
    search = SearchMediaRequest()
    search.set_Match(f"VideoId = '{media_id}'")
    listing = ListJobInfoRequest()
    listing.set_MediaId(media_id)
    listing.set_JobType("snapshot")
    answers = []
    for request in (search, listing):
        request.set_protocol_type("http")
        request.set_endpoint(emulator.url.removeprefix("http://"))
        answers.append(json.loads(old.do_action_with_exception(request)))
    assert [m["MediaId"] for m in answers[0]["MediaList"]] == [media_id]
    assert [j["JobId"] for j in answers[1]["JobInfoList"]] == [sample_jobs()[1]["SnapshotJobDetail"]["JobId"]]
    served = emulator.counters.snapshot()["by_operation"]
    assert {op: sum(n["served"] for n in accounts.values()) for op, accounts in served.items()} == {
        "SearchMedia": 2,
        "ListJobInfo": 4,
    }


def test_both_sdks_get_play_info_and_mezzanine_info_unchanged(start_emulator):
    # What success produced (#40): both SDKs' own models read the emulator's GetPlayInfo and
    # GetMezzanineInfo, and see one Normal stream of the successful transcode job, as long as the source.
    from aliyunsdkvod.request.v20170321.GetMezzanineInfoRequest import GetMezzanineInfoRequest
    from aliyunsdkvod.request.v20170321.GetPlayInfoRequest import GetPlayInfoRequest

    emulator = start_emulator(qps=0)
    job = next(b for b in sample_jobs() if b["JobType"] == "transcode")["TranscodeJobDetail"]
    assert job["Status"] == "TranscodeSuccess"
    media_id = job["VideoId"]
    client = new_sdk(emulator.url)
    played = client.get_play_info(
        vod_models.GetPlayInfoRequest(video_id=media_id, result_type="Multiple")
    ).body
    source = client.get_mezzanine_info(vod_models.GetMezzanineInfoRequest(video_id=media_id)).body
    [stream] = played.play_info_list.play_info
    assert (stream.job_id, stream.status, stream.definition) == (job["JobId"], "Normal", job["Definition"])
    assert stream.duration == source.mezzanine.duration == played.video_base.duration
    assert isinstance(stream.height, int) and stream.height > 0 and float(stream.bitrate) > 0
    assert source.mezzanine.video_id == media_id
    old = AcsClient("emulator-ak", "emulator-secret", "cn-shanghai", auto_retry=False)
    answers = []
    for request in (GetPlayInfoRequest(), GetMezzanineInfoRequest()):
        request.set_VideoId(media_id)
        request.set_protocol_type("http")
        request.set_endpoint(emulator.url.removeprefix("http://"))
        answers.append(json.loads(old.do_action_with_exception(request)))
    assert answers[0]["PlayInfoList"]["PlayInfo"][0]["JobId"] == job["JobId"]
    assert answers[1]["Mezzanine"]["Duration"] == source.mezzanine.duration
    missing = GetPlayInfoRequest()
    missing.set_VideoId("no-such-video")
    missing.set_protocol_type("http")
    missing.set_endpoint(emulator.url.removeprefix("http://"))
    with pytest.raises(ServerException) as refused:
        old.do_action_with_exception(missing)
    assert (refused.value.get_http_status(), refused.value.get_error_code()) == (404, "InvalidVideo.NotFound")
