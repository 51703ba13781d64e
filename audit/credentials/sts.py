"""STS calls that turn a role into temporary credentials: AssumeRole (signed) and AssumeRoleWithOIDC.

Sources: the STS API reference (help/en/ram/developer-reference/api-sts-2015-04-01-assumerole and
...-assumerolewithoidc: Version 2015-04-01, parameters RoleArn, RoleSessionName, DurationSeconds
900 to the role's maximum, Policy, ExternalId, OIDCProviderArn, OIDCToken; the answer's
`Credentials` {AccessKeyId, AccessKeySecret, SecurityToken, Expiration} and `AssumedRoleUser.Arn`),
and the official `alibabacloud-credentials` library (provider/ram_role_arn.py, provider/oidc.py:
the endpoint rule below, `Format=JSON`, V1 signature with HMAC-SHA1). Requests are POST forms here, so
that no token or signature sits in a URL.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

from audit.common.timeutil import format_utc, parse_utc
from audit.credentials.records import CredentialError, account_of_arn
from audit.vod.endpoints import Endpoint, resolve
from audit.vod.keys import Credentials, redact
from audit.vod.signing import canonical_query, sign_v1

VERSION = "2015-04-01"
DEFAULT_DURATION = 3600  # seconds; STS issues 900 up to the role's maximum (43,200)
TIMEOUT = 10.0  # seconds for one request for credentials


def sts_endpoint(
    override: str | None, region: str | None, vpc: bool, insecure_http: bool = False
) -> Endpoint:
    """`--sts-endpoint`, else sts[-vpc].REGION.aliyuncs.com, else sts.aliyuncs.com."""
    if override:
        return resolve(endpoint=override, insecure_http=insecure_http)
    prefix = "sts-vpc" if vpc else "sts"
    return resolve(
        endpoint=f"https://{prefix}.{region}.aliyuncs.com" if region else "https://sts.aliyuncs.com"
    )


def assume_role(
    endpoint: Endpoint,
    caller: Credentials,
    *,
    role_arn: str,
    session_name: str,
    duration: int = DEFAULT_DURATION,
    policy: str | None = None,
    external_id: str | None = None,
) -> Credentials:
    """Temporary credentials of `role_arn`, asked for with `caller`'s keys."""
    params = _role_params(role_arn, session_name, duration, policy)
    if external_id:
        params["ExternalId"] = external_id
    signed = sign_v1(
        method="POST",
        params=params,
        action="AssumeRole",
        version=VERSION,
        access_key_id=caller.access_key_id,
        access_key_secret=caller.access_key_secret.reveal(),
        security_token=caller.security_token.reveal() if caller.security_token else None,
        timestamp=format_utc(datetime.now(UTC)),
        nonce=uuid.uuid4().hex,
    )
    return _call(endpoint, signed, f"role {role_arn} (AssumeRole)", caller.secrets)


def assume_role_with_oidc(
    endpoint: Endpoint,
    *,
    role_arn: str,
    provider_arn: str,
    oidc_token: str,
    session_name: str,
    duration: int = DEFAULT_DURATION,
    policy: str | None = None,
) -> Credentials:
    """Temporary credentials of `role_arn` for an OIDC token: the call is not signed (the token is
    the proof), as the reference says ("No authorization for this operation")."""
    params = {
        **_role_params(role_arn, session_name, duration, policy),
        "Action": "AssumeRoleWithOIDC",
        "Version": VERSION,
        "Format": "JSON",
        "OIDCProviderArn": provider_arn,
        "OIDCToken": oidc_token,
        "Timestamp": format_utc(datetime.now(UTC)),
    }
    return _call(endpoint, params, f"role {role_arn} (AssumeRoleWithOIDC)", (oidc_token,))


def _role_params(role_arn: str, session_name: str, duration: int, policy: str | None) -> dict[str, str]:
    params = {"RoleArn": role_arn, "RoleSessionName": session_name, "DurationSeconds": str(duration)}
    if policy:
        params["Policy"] = policy
    return params


def _call(endpoint: Endpoint, params: Mapping[str, str], what: str, secrets: tuple[str, ...]) -> Credentials:
    body = canonical_query(params).encode("ascii")
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Accept": "application/json"}
    status, content = request("POST", f"{endpoint.url}/", headers, f"STS {endpoint.host}: {what}", body)
    document = _json_object(content)
    if status != 200 or document is None:
        code = document.get("Code", f"HTTP{status}") if document else f"HTTP{status}"
        message = str(document.get("Message", "")) if document else "not a JSON answer"
        raise CredentialError(f"STS {endpoint.host}: {what}: {code}: {redact(message, secrets)}")
    return issued(
        document.get("Credentials"),
        f"{what} via {endpoint.host}",
        account=account_of_arn(_member(document.get("AssumedRoleUser"), "Arn")),
    )


def request(
    method: str, url: str, headers: dict[str, str], what: str, body: bytes | None = None
) -> tuple[int, bytes]:
    """(status, body) of one bounded request for credentials; CredentialError naming `what` when no
    answer came (the exception's type only: its text may quote the URL and its query)."""
    from requests import RequestException

    from audit.vod.transport import exchange

    try:
        return exchange(method, url, headers=headers, data=body, timeout=TIMEOUT)
    except (RequestException, OSError, ValueError) as exc:
        raise CredentialError(f"{what}: {type(exc).__name__}") from None


def _member(value: object, name: str) -> object:
    return value.get(name) if isinstance(value, dict) else None


def _json_object(content: bytes) -> dict[str, object] | None:
    try:
        document = json.loads(content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return document if isinstance(document, dict) else None


def issued(fields: object, source: str, account: str | None = None) -> Credentials:
    """Temporary credentials from an answer's {AccessKeyId, AccessKeySecret, SecurityToken,
    Expiration}: the shape of STS, a credentials URI and the instance metadata service alike."""
    names = ("AccessKeyId", "AccessKeySecret", "SecurityToken", "Expiration")
    if not isinstance(fields, dict) or not all(isinstance(fields.get(n), str) and fields[n] for n in names):
        raise CredentialError(f"{source}: the answer lacks {', '.join(names)}")
    expiration = parse_utc(fields["Expiration"])
    if expiration is None:
        raise CredentialError(f"{source}: Expiration {fields['Expiration']!r} is not YYYY-MM-DDTHH:mm:ssZ")
    return Credentials.of(
        fields["AccessKeyId"],
        fields["AccessKeySecret"],
        fields["SecurityToken"],
        source,
        expiration,
        account,
    )
