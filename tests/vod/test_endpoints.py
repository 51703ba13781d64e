"""Region and endpoint resolution, and the loopback-only rule for plain http."""

from __future__ import annotations

import pytest

from audit.common.errors import UserError
from audit.vod.endpoints import resolve


def test_region_to_endpoint():
    assert resolve().url == "https://vod.cn-shanghai.aliyuncs.com"
    assert resolve("ap-southeast-1").url == "https://vod.ap-southeast-1.aliyuncs.com"
    assert resolve("cn-hangzhou").url == "https://vod.cn-shanghai.aliyuncs.com"


def test_endpoint_overrides_region():
    found = resolve("cn-beijing", "https://vod-vpc.cn-beijing.aliyuncs.com")
    assert (found.host, found.scheme) == ("vod-vpc.cn-beijing.aliyuncs.com", "https")
    assert resolve(endpoint="vod.eu-central-1.aliyuncs.com").url == "https://vod.eu-central-1.aliyuncs.com"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:8080", "http://localhost:9", "http://[::1]:80", "http://127.5.6.7"]
)
def test_plain_http_to_loopback_is_allowed(url):
    assert resolve(endpoint=url).is_loopback


@pytest.mark.parametrize(
    "url", ["http://vod.cn-shanghai.aliyuncs.com", "http://10.0.0.5:8080", "http://192.168.1.2"]
)
def test_plain_http_elsewhere_needs_insecure_http(url):
    with pytest.raises(UserError, match="refusing plain http"):
        resolve(endpoint=url)
    assert resolve(endpoint=url, insecure_http=True).scheme == "http"


@pytest.mark.parametrize("url", ["ftp://x", "https://host/path", "https://h:99999", "https://"])
def test_malformed_endpoints(url):
    with pytest.raises(UserError):
        resolve(endpoint=url)


def test_malformed_region():
    with pytest.raises(UserError, match="not a region ID"):
        resolve("Shanghai!")
