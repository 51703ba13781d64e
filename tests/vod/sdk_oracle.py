"""The official SDKs' signers, wrapped for comparison with ours (tests only)."""

from __future__ import annotations

from collections.abc import Mapping

from alibabacloud_tea_openapi.utils import Utils
from aliyunsdkcore.auth.algorithm import sha_hmac1
from aliyunsdkcore.auth.composer import rpc_signature_composer

_compose_v1 = getattr(rpc_signature_composer, "__compose_string_to_sign")


class _Request:
    def __init__(self, method: str, query: Mapping[str, str], headers: Mapping[str, str]) -> None:
        self.method = method
        self.pathname = "/"
        self.query = dict(query)
        self.headers = dict(headers)


def v3_authorization(
    method: str,
    query: Mapping[str, str],
    headers: Mapping[str, str],
    payload_hash: str,
    access_key_id: str,
    secret: str,
) -> str:
    """What alibabacloud-tea-openapi puts in Authorization for these exact headers."""
    return Utils.get_authorization(
        _Request(method, query, headers), "ACS3-HMAC-SHA256", payload_hash, access_key_id, secret
    )


def v1_signature(method: str, params: Mapping[str, str], secret: str) -> str:
    """What aliyunsdkcore's RPC signer computes for these exact parameters."""
    string_to_sign = _compose_v1(method, {k: v for k, v in params.items() if k != "Signature"})
    return sha_hmac1.get_sign_string(string_to_sign, secret + "&")
