"""Where credentials come from: fixed keys, a role, OIDC, the ECS instance role, a credentials URI.

Each source fetches a fresh set on demand; temporary sets carry their expiration."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from audit.credentials import sts
from audit.credentials.records import CredentialError
from audit.vod.endpoints import Endpoint
from audit.vod.keys import Credentials

# The instance metadata service (ECS "instance metadata" page; the official library's
# provider/ecs_ram_role.py): IMDSv2 token by PUT, then the role name and its credentials document.
METADATA_ADDRESS = "http://100.100.100.200"
METADATA_TOKEN_PATH = "/latest/api/token"
METADATA_ROLE_PATH = "/latest/meta-data/ram/security-credentials/"
METADATA_TOKEN_TTL = "21600"  # seconds, as the official library asks


class Source(Protocol):
    """Hands out credentials; `describe` and `identity` never hold a secret."""

    @property
    def describe(self) -> str: ...

    @property
    def identity(self) -> str:
        """Stable across sessions (an AccessKey ID, a role ARN): what the state remembers accounts by."""
        ...

    def fetch(self) -> Credentials: ...


def session_name() -> str:
    return f"vod-audit-{int(time.time())}"


@dataclass(frozen=True)
class Static:
    """Keys that do not change during a run: AK, or an STS token someone else obtained."""

    credentials: Credentials

    @property
    def describe(self) -> str:
        return self.credentials.source

    @property
    def identity(self) -> str:
        return f"key {self.credentials.access_key_id}"

    def fetch(self) -> Credentials:
        return self.credentials


@dataclass(frozen=True)
class AssumedRole:
    """AssumeRole with the credentials of another source (RamRoleArn, ChainableRamRoleArn)."""

    base: Source
    role_arn: str
    sts_endpoint: Endpoint
    session_name: str
    duration: int = sts.DEFAULT_DURATION
    policy: str | None = None
    external_id: str | None = None

    @property
    def describe(self) -> str:
        return f"role {self.role_arn} assumed with {self.base.describe}"

    @property
    def identity(self) -> str:
        return f"role {self.role_arn}"

    def fetch(self) -> Credentials:
        return sts.assume_role(
            self.sts_endpoint,
            self.base.fetch(),
            role_arn=self.role_arn,
            session_name=self.session_name,
            duration=self.duration,
            policy=self.policy,
            external_id=self.external_id,
        )


@dataclass(frozen=True)
class OidcRole:
    """AssumeRoleWithOIDC with the token in a file, read again at every refresh (it rotates)."""

    role_arn: str
    provider_arn: str
    token_file: str
    sts_endpoint: Endpoint
    session_name: str
    duration: int = sts.DEFAULT_DURATION
    policy: str | None = None

    @property
    def describe(self) -> str:
        return f"role {self.role_arn} assumed with the OIDC token in {self.token_file}"

    @property
    def identity(self) -> str:
        return f"role {self.role_arn}"

    def fetch(self) -> Credentials:
        from audit.common.files import read_input

        try:
            token = read_input(Path(self.token_file)).decode("utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
            raise CredentialError(f"OIDC token file {self.token_file}: cannot read: {reason}") from None
        if not token:
            raise CredentialError(f"OIDC token file {self.token_file} is empty")
        return sts.assume_role_with_oidc(
            self.sts_endpoint,
            role_arn=self.role_arn,
            provider_arn=self.provider_arn,
            oidc_token=token,
            session_name=self.session_name,
            duration=self.duration,
            policy=self.policy,
        )


@dataclass(frozen=True)
class InstanceRole:
    """The ECS instance's RAM role through the metadata service (IMDSv2 token first)."""

    role_name: str | None
    address: str = METADATA_ADDRESS
    imdsv1_disabled: bool = False

    @property
    def describe(self) -> str:
        return f"ECS instance role {self.role_name or '(named by the instance)'} via {self.address}"

    @property
    def identity(self) -> str:
        return f"ecs role {self.role_name or ''}"

    def _get(self, path: str, token: str | None) -> str:
        headers = {"X-aliyun-ecs-metadata-token": token} if token else {}
        status, content = sts.request("GET", self.address + path, headers, self.describe)
        if status != 200:
            raise CredentialError(f"{self.describe}: HTTP {status} for {path}")
        return content.decode("utf-8", "replace").strip()

    def _token(self) -> str | None:
        headers = {"X-aliyun-ecs-metadata-token-ttl-seconds": METADATA_TOKEN_TTL}
        try:
            status, content = sts.request("PUT", self.address + METADATA_TOKEN_PATH, headers, self.describe)
            if status != 200:
                raise CredentialError(f"{self.describe}: HTTP {status} for the IMDSv2 token")
        except CredentialError:
            if self.imdsv1_disabled:  # ALIBABA_CLOUD_IMDSV1_DISABLED: no fallback to tokenless requests
                raise
            return None
        return content.decode("utf-8", "replace").strip()

    def fetch(self) -> Credentials:
        token = self._token()
        role = self.role_name or self._get(METADATA_ROLE_PATH, token)
        text = self._get(METADATA_ROLE_PATH + role, token)
        try:
            document = json.loads(text)
        except ValueError:
            raise CredentialError(f"{self.describe}: the credentials document is not JSON") from None
        if not isinstance(document, dict) or document.get("Code") != "Success":
            raise CredentialError(f"{self.describe}: the credentials document does not say Code: Success")
        return sts.issued(document, f"ECS instance role {role}")


@dataclass(frozen=True)
class CredentialsUri:
    """GET a URI answering {Code: Success, AccessKeyId, AccessKeySecret, SecurityToken, Expiration}."""

    uri: str

    @property
    def describe(self) -> str:
        # The query may carry a token of its own: never shown.
        parts = urlsplit(self.uri)
        host = parts.hostname or ""
        netloc = f"{host}:{parts.port}" if parts.port else host
        return f"credentials URI {urlunsplit((parts.scheme, netloc, parts.path, '', ''))}"

    @property
    def identity(self) -> str:
        return self.describe

    def fetch(self) -> Credentials:
        status, content = sts.request("GET", self.uri, {}, self.describe)
        try:
            document = json.loads(content.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            document = None
        if status != 200 or not isinstance(document, dict) or document.get("Code") != "Success":
            raise CredentialError(f"{self.describe}: HTTP {status}, not an answer with Code: Success")
        return sts.issued(document, self.describe)
