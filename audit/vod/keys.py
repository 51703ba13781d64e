"""The keys a call is signed with: a secret that never shows itself, one AccessKey set, and who holds them."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol


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
    expiration: datetime | None = None  # temporary credentials stop working then
    account: str | None = None  # the account UID, when the source states it (an assumed role's ARN)

    @classmethod
    def of(
        cls,
        access_key_id: str,
        secret: str,
        token: str | None = None,
        source: str = "explicit",
        expiration: datetime | None = None,
        account: str | None = None,
    ) -> Credentials:
        return cls(
            access_key_id, Secret(secret), Secret(token) if token else None, source, expiration, account
        )

    @property
    def secrets(self) -> tuple[str, ...]:
        """The values that must never be written anywhere (for redaction and tests)."""
        values = [self.access_key_secret.reveal()]
        if self.security_token:
            values.append(self.security_token.reveal())
        return tuple(values)


class KeyHolder(Protocol):
    """Whoever keeps the keys a client signs with (audit.credentials.refresh.Keys renews them)."""

    def current(self) -> Credentials: ...

    def expired(self, used: Credentials) -> None:
        """A call signed with `used` was told its security token expired."""


@dataclass(frozen=True)
class FixedKeys:
    """Keys that never change: a call told they expired can only fail."""

    credentials: Credentials

    def current(self) -> Credentials:
        return self.credentials

    def expired(self, used: Credentials) -> None:
        pass


def redact(text: str, secrets: tuple[str, ...]) -> str:
    """An error message without credentials: gateways echo their string to sign, which holds every
    signed parameter (a security token among them, with V1)."""
    from audit.vod.signing import percent_encode

    marker = "string to sign is:"
    if marker in text:
        text = text.split(marker)[0] + marker + " (withheld: it carries the signed request parameters)"
    for secret in secrets:
        for form in {secret, percent_encode(secret), percent_encode(percent_encode(secret))}:
            text = text.replace(form, "***")
    return text
