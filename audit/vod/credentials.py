"""The credential chain: `--profile`, the ALIBABA_CLOUD_* environment, then the aliyun CLI file."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from audit.errors import UserError
from audit.files import read_input

ENV_ID = "ALIBABA_CLOUD_ACCESS_KEY_ID"
ENV_SECRET = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
ENV_TOKEN = "ALIBABA_CLOUD_SECURITY_TOKEN"
ENV_PROFILE = "ALIBABA_CLOUD_PROFILE"

HOW_TO = (
    f"set {ENV_ID} and {ENV_SECRET} (and {ENV_TOKEN} for STS), pass --profile NAME for a profile of "
    "~/.aliyun/config.json, or audit the embedded emulator with --emulator DATA"
)


class CredentialError(UserError):
    """No usable credentials, with what to set."""


class Secret:
    """A string that never shows itself in repr, str, format, logs or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)

    def __reduce__(self) -> tuple[object, ...]:
        raise TypeError("a Secret is not serialisable")


@dataclass(frozen=True)
class Credentials:
    """An AccessKey pair, with an STS token when temporary; `source` says where it came from."""

    access_key_id: str
    access_key_secret: Secret = field(repr=False)
    security_token: Secret | None = field(default=None, repr=False)
    source: str = "explicit"

    @classmethod
    def of(
        cls, access_key_id: str, secret: str, token: str | None = None, source: str = "explicit"
    ) -> Credentials:
        return cls(access_key_id, Secret(secret), Secret(token) if token else None, source)

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never be written anywhere (for redaction and tests)."""
        values = [self.access_key_secret.reveal()]
        if self.security_token:
            values.append(self.security_token.reveal())
        return tuple(values)


def config_path(home: Path | None = None) -> Path:
    return (home or Path.home()) / ".aliyun" / "config.json"


def _read_config(path: Path) -> dict[str, object]:
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
    try:
        document = json.loads(read_input(path).decode("utf-8"))
    except OSError as exc:
        raise CredentialError(f"{path}: cannot read: {exc.strerror}") from None
    except UnicodeDecodeError:
        raise CredentialError(f"{path}: not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise CredentialError(f"{path}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}") from None
    if not isinstance(document, dict) or not isinstance(document.get("profiles", []), list):
        raise CredentialError(f"{path}: expected an object with a `profiles` list")
    return document


def _from_profile(path: Path, document: dict[str, object], name: str) -> Credentials:
    listed = document.get("profiles")
    profiles = [p for p in listed if isinstance(p, dict)] if isinstance(listed, list) else []
    chosen = next((p for p in profiles if p.get("name") == name), None)
    if chosen is None:
        names = ", ".join(str(p.get("name")) for p in profiles) or "none"
        raise CredentialError(f"{path}: no profile named {name!r} (profiles: {names})")
    mode = chosen.get("mode", "AK")
    needed = {
        "AK": ("access_key_id", "access_key_secret"),
        "StsToken": ("access_key_id", "access_key_secret", "sts_token"),
    }
    if mode not in needed:
        raise CredentialError(
            f"{path}: profile {name!r} has mode {mode!r}; vod-audit supports AK and StsToken"
        )
    missing = [key for key in needed[mode] if not isinstance(chosen.get(key), str) or not chosen.get(key)]
    if missing:
        raise CredentialError(f"{path}: profile {name!r} (mode {mode}) lacks {', '.join(missing)}")
    token = str(chosen["sts_token"]) if mode == "StsToken" else None
    return Credentials.of(
        str(chosen["access_key_id"]), str(chosen["access_key_secret"]), token, f"profile {name} of {path}"
    )


def resolve(
    profile: str | None = None, env: Mapping[str, str] | None = None, home: Path | None = None
) -> Credentials:
    """Credentials by the chain of SPEC §3, or a CredentialError saying how to provide them."""
    env = os.environ if env is None else env
    path = config_path(home)
    if profile:
        return _from_profile(path, _read_config(path), profile)
    key_id, secret, token = env.get(ENV_ID, ""), env.get(ENV_SECRET, ""), env.get(ENV_TOKEN, "")
    if key_id or secret:
        if not key_id:
            raise CredentialError(f"{ENV_SECRET} is set but {ENV_ID} is not; set both")
        if not secret:
            raise CredentialError(f"{ENV_ID} is set but {ENV_SECRET} is not; set both")
        return Credentials.of(key_id, secret, token or None, "environment")
    if token:
        raise CredentialError(f"{ENV_TOKEN} is set without {ENV_ID} and {ENV_SECRET}; set all three")
    named = env.get(ENV_PROFILE)
    if named:
        return _from_profile(path, _read_config(path), named)
    if path.exists():
        document = _read_config(path)
        current = document.get("current")
        if isinstance(current, str) and current:
            return _from_profile(path, document, current)
    raise CredentialError(f"no credentials found; {HOW_TO}")
