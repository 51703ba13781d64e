"""The credential chain, in the order and with the variables and files of the official library.

The official `alibabacloud-credentials` library (provider/default.py, cli_profile.py, profile.py, oidc.py,
ecs_ram_role.py, uri.py of version 1.0.12): environment keys, OIDC from the environment, a profile
of ~/.aliyun/config.json, a section of ~/.alibabacloud/credentials.ini, the ECS instance role, a
credentials URI. The first source that yields credentials wins; one that is configured but fails
is reported and the chain goes on, as the library does.

One deliberate difference: the instance metadata service is asked only when the configuration names
it (ALIBABA_CLOUD_ECS_METADATA, mode EcsRamRole, type ecs_ram_role), never probed by default.
"""

from __future__ import annotations

import configparser
import json
import logging
import os
import stat
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from audit.common.files import read_input
from audit.credentials import sts
from audit.credentials.records import HOW_TO, CredentialError
from audit.credentials.sources import (
    METADATA_ADDRESS,
    AssumedRole,
    CredentialsUri,
    InstanceRole,
    OidcRole,
    Source,
    Static,
    session_name,
)
from audit.vod.endpoints import Endpoint
from audit.vod.keys import Credentials

ENV_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
ENV_PROFILE = "ALIBABA_CLOUD_PROFILE"
# Ours, not the library's: where the metadata service is (tests point it at the emulator).
ENV_METADATA_ADDRESS = "VOD_AUDIT_ECS_METADATA_ENDPOINT"
CLI_MODES = ("AK", "StsToken", "RamRoleArn", "EcsRamRole", "OIDC", "ChainableRamRoleArn", "CredentialsURI")
INI_TYPES = ("access_key", "ram_role_arn", "oidc_role_arn", "ecs_ram_role")
log = logging.getLogger("audit.credentials.chain")


@dataclass(frozen=True)
class Found:
    """The source the chain chose, the step it was found at, and the first credentials it gave."""

    source: Source
    credentials: Credentials
    step: str  # named as the official library names its providers: env, oidc_role_arn, cli_profile, ...


def config_path(home: Path) -> Path:
    return home / ".aliyun" / "config.json"


def _true(value: str | None) -> bool:
    return (value or "").lower() == "true"


class _Chain:
    """One resolution: the environment, the home folder, and where STS is."""

    def __init__(
        self, env: Mapping[str, str], home: Path, sts_override: str | None, insecure_http: bool
    ) -> None:
        self.env = env
        self.home = home
        self._sts_override = sts_override
        self._insecure_http = insecure_http

    def get(self, name: str) -> str | None:
        return self.env.get(name) or None

    def sts(self, region: str | None = None, vpc: object = None) -> Endpoint:
        """A profile's sts_region/enable_vpc, else ALIBABA_CLOUD_STS_REGION/_VPC_ENDPOINT_ENABLED."""
        use_vpc = (
            _true(str(vpc)) if vpc is not None else _true(self.get("ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED"))
        )
        return sts.sts_endpoint(
            self._sts_override,
            region or self.get("ALIBABA_CLOUD_STS_REGION"),
            use_vpc,
            self._insecure_http,
        )

    def session(self, named: object) -> str:
        """A role session's name: the configuration's, else ALIBABA_CLOUD_ROLE_SESSION_NAME, else ours."""
        return str(named) if named else self.get("ALIBABA_CLOUD_ROLE_SESSION_NAME") or session_name()

    def instance_role(self, role_name: str | None) -> InstanceRole:
        return InstanceRole(
            role_name,
            (self.get(ENV_METADATA_ADDRESS) or METADATA_ADDRESS).rstrip("/"),
            _true(self.get("ALIBABA_CLOUD_IMDSV1_DISABLED")),
        )

    # The steps, in the library's order. Each returns None when it is not configured at all.

    def environment(self) -> Source | None:
        key_id, secret, token = self.get(ENV_ID), self.get(ENV_SECRET), self.get(ENV_TOKEN)
        if not (key_id or secret or token):
            return None
        if not key_id or not secret:
            missing = " and ".join(n for n, v in ((ENV_ID, key_id), (ENV_SECRET, secret)) if not v)
            raise CredentialError(f"{missing} not set while other ALIBABA_CLOUD_* keys are; set both")
        return Static(Credentials.of(key_id, secret, token, "environment"))

    def oidc(self) -> Source | None:
        role, provider, token_file = (
            self.get("ALIBABA_CLOUD_ROLE_ARN"),
            self.get("ALIBABA_CLOUD_OIDC_PROVIDER_ARN"),
            self.get("ALIBABA_CLOUD_OIDC_TOKEN_FILE"),
        )
        if not (role and provider and token_file):
            return None
        return OidcRole(
            role,
            provider,
            token_file,
            self.sts(),
            self.session(None),
        )

    def cli_profile(self, name: str | None = None) -> Source | None:
        if name is None and _true(self.get("ALIBABA_CLOUD_CLI_PROFILE_DISABLED")):
            return None
        path = config_path(self.home)
        if name is None and not path.exists():
            return None
        document = _read_config(path)
        chosen = name or self.get(ENV_PROFILE) or document.get("current")
        if not isinstance(chosen, str) or not chosen:
            raise CredentialError(f"{path}: no profile chosen: set {ENV_PROFILE} or `current`")
        return _Profiles(self, path, document).source(chosen, set())

    def ini_file(self) -> Source | None:
        path = Path(
            self.get("ALIBABA_CLOUD_CREDENTIALS_FILE") or self.home / ".alibabacloud" / "credentials.ini"
        )
        if not path.exists():
            return None
        sections = _read_ini(path)
        name = self.get(ENV_PROFILE) or "default"
        if name not in sections:
            raise CredentialError(f"{path}: no section [{name}]")
        return self._ini_source(path, name, sections[name])

    def _ini_source(self, path: Path, name: str, section: Mapping[str, str]) -> Source:
        kind = section.get("type")
        where = f"section [{name}] of {path}"
        need = _needs(section, where)
        if kind == "access_key":
            key_id, secret = need("access_key_id", "access_key_secret")
            return Static(Credentials.of(key_id, secret, None, where))
        if kind == "ram_role_arn":
            key_id, secret, role = need("access_key_id", "access_key_secret", "role_arn")
            base = Static(Credentials.of(key_id, secret, None, where))
            return AssumedRole(
                base,
                role,
                self.sts(),
                self.session(section.get("role_session_name")),
                policy=section.get("policy") or None,
            )
        if kind == "oidc_role_arn":
            role, provider, token_file = need("role_arn", "oidc_provider_arn", "oidc_token_file_path")
            return OidcRole(
                role,
                provider,
                token_file,
                self.sts(),
                self.session(section.get("role_session_name")),
                policy=section.get("policy") or None,
            )
        if kind == "ecs_ram_role":
            return self.instance_role(section.get("role_name") or None)
        raise CredentialError(f"{where}: type {kind!r} is not supported; use one of {', '.join(INI_TYPES)}")

    def instance(self) -> Source | None:
        if _true(self.get("ALIBABA_CLOUD_ECS_METADATA_DISABLED")):
            return None
        role = self.get("ALIBABA_CLOUD_ECS_METADATA")
        return self.instance_role(role) if role else None  # named, never probed

    def uri(self) -> Source | None:
        uri = self.get("ALIBABA_CLOUD_CREDENTIALS_URI")
        return CredentialsUri(uri) if uri else None


class _Profiles:
    """The profiles of one ~/.aliyun/config.json, as the aliyun CLI and the library read them."""

    def __init__(self, chain: _Chain, path: Path, document: dict[str, Any]) -> None:
        self._chain = chain
        self._path = path
        self._profiles = {p.get("name"): p for p in document.get("profiles", []) if isinstance(p, dict)}

    def source(self, name: str, seen: set[str]) -> Source:
        path, chain = self._path, self._chain
        profile = self._profiles.get(name)
        if profile is None:
            names = ", ".join(str(n) for n in self._profiles) or "none"
            raise CredentialError(f"{path}: no profile named {name!r} (profiles: {names})")
        if name in seen:
            raise CredentialError(f"{path}: profile {name!r} is its own source_profile, through a loop")
        mode = profile.get("mode", "AK")
        where = f"profile {name} of {path}"
        need = _needs(profile, f"{path}: profile {name!r} (mode {mode})")
        duration = _duration(profile.get("expired_seconds"), where)

        def sts_endpoint() -> Endpoint:
            return chain.sts(profile.get("sts_region"), profile.get("enable_vpc"))

        if mode == "AK":
            key_id, secret = need("access_key_id", "access_key_secret")
            return Static(Credentials.of(key_id, secret, None, where))
        if mode == "StsToken":
            key_id, secret, token = need("access_key_id", "access_key_secret", "sts_token")
            return Static(Credentials.of(key_id, secret, token, where))
        if mode in ("RamRoleArn", "ChainableRamRoleArn"):
            if mode == "RamRoleArn":
                key_id, secret = need("access_key_id", "access_key_secret")
                base: Source = Static(Credentials.of(key_id, secret, None, where))
            else:
                (source_name,) = need("source_profile")
                base = self.source(source_name, seen | {name})
            (role,) = need("ram_role_arn")
            return AssumedRole(
                base,
                role,
                sts_endpoint(),
                chain.session(profile.get("ram_session_name")),
                duration,
                profile.get("policy") or None,
                profile.get("external_id") or None,
            )
        if mode == "EcsRamRole":
            return chain.instance_role(profile.get("ram_role_name") or None)
        if mode == "OIDC":
            role, provider, token_file = need("ram_role_arn", "oidc_provider_arn", "oidc_token_file")
            return OidcRole(
                role,
                provider,
                token_file,
                sts_endpoint(),
                chain.session(profile.get("role_session_name")),
                duration,
                profile.get("policy") or None,
            )
        if mode == "CredentialsURI":
            (uri,) = need("credentials_uri")
            return CredentialsUri(uri)
        raise CredentialError(
            f"{path}: profile {name!r} has mode {mode!r}; vod-audit supports {', '.join(CLI_MODES)}"
        )


def _needs(values: Mapping[str, Any], where: str) -> Callable[..., tuple[str, ...]]:
    def need(*names: str) -> tuple[str, ...]:
        missing = [n for n in names if not isinstance(values.get(n), str) or not values.get(n)]
        if missing:
            raise CredentialError(f"{where} lacks {', '.join(missing)}")
        return tuple(str(values[n]) for n in names)

    return need


def _duration(value: object, where: str) -> int:
    if value in (None, "", 0):
        return sts.DEFAULT_DURATION
    try:
        seconds = int(str(value))
    except ValueError:
        raise CredentialError(f"{where}: expired_seconds {value!r} is not a number of seconds") from None
    if seconds < 900:
        raise CredentialError(f"{where}: expired_seconds must be at least 900 (STS's minimum)")
    return seconds


def _private(path: Path) -> None:
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise CredentialError(f"{path}: not found; {HOW_TO}") from None
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read: {exc.strerror}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise CredentialError(
            f"{path}: holds secrets but is accessible by other users (mode {stat.S_IMODE(mode):04o}); "
            f"run: chmod 600 {path}"
        )


def _read_text(path: Path) -> str:
    _private(path)
    try:
        return read_input(path).decode("utf-8")
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CredentialError(f"{path}: not UTF-8 text") from None


def _read_config(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(_read_text(path))
    except json.JSONDecodeError as exc:
        raise CredentialError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("profiles", []), list):
        raise CredentialError(f"{path}: expected an object with a `profiles` list")
    return document


def _read_ini(path: Path) -> dict[str, dict[str, str]]:
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(_read_text(path), source=str(path))
    except configparser.Error as exc:
        raise CredentialError(f"{path}: not an INI file: {str(exc).splitlines()[0]}") from None
    # As the library reads it: whatever follows a `#` in a value is a comment.
    return {
        name: {key: value.split("#")[0].strip() for key, value in parser.items(name)}
        for name in parser.sections()
    }


def _steps(chain: _Chain) -> list[tuple[str, Callable[[], Source | None]]]:
    return [
        ("env", chain.environment),
        ("oidc_role_arn", chain.oidc),
        ("cli_profile", chain.cli_profile),
        ("profile", chain.ini_file),
        ("ecs_ram_role", chain.instance),
        ("credential_uri", chain.uri),
    ]


def locate(
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    *,
    sts_endpoint: str | None = None,
) -> tuple[str, Source]:
    """The step and source the chain would ask first, found without a call or a fetch (what `plan`
    says); CredentialError when nothing is configured. A configured source that then fails to give
    keys is seen only by a run, which goes on down the chain."""
    env = os.environ if env is None else env
    chain = _Chain(env, home or Path(env.get("HOME") or Path.home()), sts_endpoint, False)
    if profile:
        chosen = chain.cli_profile(profile)
        assert chosen is not None  # a named profile is found or raises
        return "cli_profile", chosen
    for name, step in _steps(chain):
        source = step()
        if source is not None:
            return name, source
    raise CredentialError(f"no credentials found; {HOW_TO}")


def resolve(
    profile: str | None = None,
    env: Mapping[str, str] | None = None,
    home: Path | None = None,
    *,
    sts_endpoint: str | None = None,
    insecure_http: bool = False,
) -> Found:
    """The first source of the chain that yields credentials (`profile`: that profile only), or a
    CredentialError listing what each configured source said."""
    env = os.environ if env is None else env
    chain = _Chain(env, home or Path(env.get("HOME") or Path.home()), sts_endpoint, insecure_http)
    if profile:
        chosen = chain.cli_profile(profile)
        assert chosen is not None  # a named profile is found or raises
        return Found(chosen, chosen.fetch(), "cli_profile")
    failures: list[str] = []
    for name, step in _steps(chain):
        try:
            source = step()
            if source is not None:
                return Found(source, source.fetch(), name)
        except CredentialError as exc:
            log.warning("credentials: skipped %s: %s", name, exc)
            failures.append(str(exc))
    if failures:
        raise CredentialError(f"no credentials found: {'; '.join(failures)}")
    raise CredentialError(f"no credentials found; {HOW_TO}")
