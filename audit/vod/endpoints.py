"""Where requests go: region to endpoint, and the rule that plain http is for loopback only."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from audit.common.errors import UserError

DEFAULT_REGION = "cn-shanghai"
# The SDK's endpoint map sends cn-hangzhou to the Shanghai endpoint.
REGION_ALIASES = {"cn-hangzhou": "cn-shanghai"}
_REGION = re.compile(r"[a-z]{2}(-[a-z0-9]+)+")


@dataclass(frozen=True)
class Endpoint:
    """A base URL split into what the signer and the session need."""

    scheme: str
    host: str  # host[:port] exactly as sent in the Host header
    url: str

    @property
    def is_loopback(self) -> bool:
        return is_loopback_host(urlsplit(self.url).hostname or "")


def is_loopback_host(hostname: str) -> bool:
    if hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(hostname.strip("[]")).is_loopback
    except ValueError:
        return False


def for_region(region: str) -> str:
    if not _REGION.fullmatch(region):
        raise UserError(f"--region {region!r} is not a region ID such as cn-shanghai")
    return f"https://vod.{REGION_ALIASES.get(region, region)}.aliyuncs.com"


def resolve(region: str | None = None, endpoint: str | None = None, insecure_http: bool = False) -> Endpoint:
    """The endpoint to call; refuses http:// to anything but loopback unless `insecure_http`."""
    url = endpoint or for_region(region or DEFAULT_REGION)
    if "://" not in url:
        url = f"https://{url}"
    parts = urlsplit(url)
    if "@" in parts.netloc:
        # Never echoed: the part before @ is a user name and, most likely, a password.
        raise UserError(
            "--endpoint must not carry a user name or password (user:password@host): the tool "
            "authenticates with signed requests and never sends them; remove the part before @"
        )
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UserError(f"--endpoint {endpoint!r} is not an http(s) URL")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise UserError(
            f"--endpoint {endpoint!r} must be a bare origin such as https://vod.cn-shanghai.aliyuncs.com"
        )
    try:
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise UserError(f"--endpoint {endpoint!r} has an invalid port") from None
    if parts.scheme == "http" and not is_loopback_host(parts.hostname) and not insecure_http:
        raise UserError(
            f"refusing plain http to {parts.hostname}: the request would travel unencrypted; "
            "use https, or pass --insecure-http if you really mean it"
        )
    return Endpoint(parts.scheme, parts.netloc, f"{parts.scheme}://{parts.netloc}")
