"""The emulator's side of credentials: its accounts' keys, and the temporary keys it issues.

It issues them through STS (AssumeRole, AssumeRoleWithOIDC), the ECS instance metadata service and a
credentials URI.

Shapes follow the STS API reference (AssumeRole, AssumeRoleWithOIDC: `Credentials`,
`AssumedRoleUser`), the ECS instance metadata page (IMDSv2 token by PUT /latest/api/token with
X-aliyun-ecs-metadata-token-ttl-seconds, /latest/meta-data/ram/security-credentials/ROLE with
`Code: Success`) and the official credentials library's URI provider (`Code: Success`, AccessKeyId,
AccessKeySecret, SecurityToken, Expiration). Every issued key lasts `token_lifetime` seconds.
"""

from __future__ import annotations

import re
import secrets
import threading
from collections import Counter
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from audit.common.timeutil import format_utc
from audit.emulator.gateway import Caller, Key

METADATA_TOKEN = "/latest/api/token"
METADATA_ROLES = "/latest/meta-data/ram/security-credentials/"
CREDENTIALS_URI = "/_emulator/credentials"
_ROLE_ARN = re.compile(r"acs:ram::(\d+):role/([\w.@+=,-]+)")
_OIDC_PROVIDER_ARN = re.compile(r"acs:ram::\d+:oidc-provider/.+")

Served = tuple[int, Any]  # (status, a JSON document or a text)


class Identity:
    """Long-term keys by account, and the temporary ones issued since the emulator started."""

    def __init__(
        self,
        accounts: Mapping[str, tuple[str, str | None]],
        token_lifetime: float,
        role_name: str,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        # A long-term key is its own account: its quota is the account's.
        self._keys = {key: Key(secret, token, key) for key, (secret, token) in accounts.items()}
        self._default = next(iter(accounts))
        self._lifetime = token_lifetime
        self.role_name = role_name
        self._clock = clock
        self._lock = threading.Lock()
        self._metadata_tokens: dict[str, datetime] = {}
        self.counts: Counter[str] = Counter()

    def key(self, access_key_id: str) -> Key | None:
        return self._keys.get(access_key_id)

    def issue(self, account: str | None = None) -> dict[str, str]:
        """New temporary credentials spending `account`'s quota (default: the first account)."""
        now = self._clock().replace(microsecond=0)
        expires = now + timedelta(seconds=self._lifetime)
        key_id = f"STS.{secrets.token_hex(12)}"
        fields = {
            "AccessKeyId": key_id,
            "AccessKeySecret": secrets.token_urlsafe(24),
            "SecurityToken": secrets.token_urlsafe(96),
            "Expiration": format_utc(expires),
        }
        with self._lock:
            # Keys long past their expiry are forgotten, so that a long-lived emulator stays small.
            for old in [
                k for k, v in self._keys.items() if v.expires and v.expires < now - timedelta(hours=1)
            ]:
                del self._keys[old]
            self._keys[key_id] = Key(
                fields["AccessKeySecret"], fields["SecurityToken"], account or self._default, expires
            )
        return fields

    def assume_role(self, caller: Caller, request_id: str) -> Served:
        """AssumeRole, already authenticated: the role's account is the caller's."""
        self.counts["AssumeRole"] += 1
        return self._role_answer(caller.params, caller.account, request_id)

    def assume_role_with_oidc(self, params: Mapping[str, str], request_id: str) -> Served:
        """AssumeRoleWithOIDC: not signed, the OIDC token is the proof (here: any 4-20,000 chars)."""
        self.counts["AssumeRoleWithOIDC"] += 1
        token = params.get("OIDCToken", "")
        if not 4 <= len(token) <= 20000:
            return _sts_error(
                400, "InvalidParameter.OIDCToken", "The parameter OIDCToken is invalid.", request_id
            )
        if not _OIDC_PROVIDER_ARN.fullmatch(params.get("OIDCProviderArn", "")):
            return _sts_error(
                400,
                "InvalidParameter.OIDCProviderArn",
                "The parameter OIDCProviderArn is invalid.",
                request_id,
            )
        return self._role_answer(params, None, request_id)

    def _role_answer(self, params: Mapping[str, str], account: str | None, request_id: str) -> Served:
        role = _ROLE_ARN.fullmatch(params.get("RoleArn", ""))
        if role is None:
            return _sts_error(
                400, "InvalidParameter.RoleArn", "The parameter RoleArn is invalid.", request_id
            )
        session = params.get("RoleSessionName", "")
        if not session:
            return _sts_error(
                400, "MissingRoleSessionName", "RoleSessionName is mandatory for this action.", request_id
            )
        duration = params.get("DurationSeconds", "3600")
        if not duration.isdigit() or not 900 <= int(duration) <= 43200:
            return _sts_error(
                400,
                "InvalidParameter.DurationSeconds",
                "The parameter DurationSeconds is invalid.",
                request_id,
            )
        uid, name = role.groups()
        return 200, {
            "RequestId": request_id,
            "AssumedRoleUser": {
                "Arn": f"acs:ram::{uid}:assumed-role/{name}/{session}",
                "AssumedRoleId": f"3{secrets.token_hex(8)}:{session}",
            },
            "Credentials": self.issue(account),
        }

    def metadata(self, method: str, path: str, headers: Mapping[str, str]) -> Served:
        """The instance metadata service: an IMDSv2 token, the role's name, its credentials."""
        now = self._clock()
        if path == METADATA_TOKEN:
            ttl = headers.get("x-aliyun-ecs-metadata-token-ttl-seconds", "")
            if method != "PUT" or not ttl.isdigit() or not 1 <= int(ttl) <= 21600:
                return 400, "invalid token request"
            token = secrets.token_urlsafe(32)
            with self._lock:
                # Expired tokens are forgotten, as expired keys are, so that a long-lived emulator stays small.
                self._metadata_tokens = {
                    t: until for t, until in self._metadata_tokens.items() if until > now
                }
                self._metadata_tokens[token] = now + timedelta(seconds=int(ttl))
            self.counts["metadata_token"] += 1
            return 200, token
        sent = headers.get("x-aliyun-ecs-metadata-token")
        if sent is not None and self._metadata_tokens.get(sent, now) <= now:
            return 401, "invalid or expired metadata token"
        if path == METADATA_ROLES:
            return 200, self.role_name
        if path != METADATA_ROLES + self.role_name:
            return 404, "not found"
        self.counts["metadata_credentials" if sent else "metadata_credentials_v1"] += 1
        return 200, {"Code": "Success", "LastUpdated": format_utc(now), **self.issue()}

    def credentials_uri(self) -> Served:
        self.counts["credentials_uri"] += 1
        return 200, {"Code": "Success", **self.issue()}


def _sts_error(status: int, code: str, message: str, request_id: str) -> Served:
    return status, {"RequestId": request_id, "HostId": "sts.aliyuncs.com", "Code": code, "Message": message}
