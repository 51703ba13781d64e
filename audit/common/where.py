"""Where a state lives: an SQLite file's path, or a PostgreSQL URL, and how either may be shown."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from audit.common.errors import UserError

SCHEMES = ("postgresql://", "postgres://")  # libpq's connection URIs
DEFAULT_SCHEMA = "vod_audit"
# A schema name we write unquoted in messages and docs: PostgreSQL's plain identifiers, lower case.
SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")


@dataclass(frozen=True)
class StateAt:
    """A state's place. `url` may hold a password: it is only ever given to libpq; `shown` never
    holds one and is what every output, report and log line says."""

    url: str = ""  # a PostgreSQL connection URI
    path: Path | None = None  # an SQLite file
    schema: str = DEFAULT_SCHEMA  # PostgreSQL: the schema holding the tables

    @property
    def shown(self) -> str:
        if self.path is not None:
            return str(self.path)
        return without_password(self.url)

    @property
    def remote(self) -> bool:
        return self.path is None

    def __str__(self) -> str:
        return self.shown


def state_at(text: str, schema: str | None = None) -> StateAt:
    """`--state` as given: a postgresql:// or postgres:// URL, else a path."""
    if text.startswith(SCHEMES):
        name = schema or DEFAULT_SCHEMA
        if not SCHEMA_NAME.fullmatch(name):
            raise UserError(
                f"--state-schema {name!r}: a schema name is lower-case letters, digits and _ (at most 63)"
            )
        try:
            urlsplit(text).port  # noqa: B018  (a port that is no number is said here, not by libpq)
        except ValueError:
            raise UserError(f"--state {without_password(text)}: the port is not a number") from None
        return StateAt(url=text, schema=name)
    return StateAt(path=Path(text))


def without_password(url: str) -> str:
    """The URL with any password taken out (of the authority and of the query), for showing."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url.split("://", 1)[0] + "://…"
    netloc = parts.netloc
    if "@" in netloc:
        user, host = netloc.rsplit("@", 1)
        netloc = f"{user.split(':', 1)[0]}@{host}"
    query = urlencode([(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "password"])
    return urlunsplit((parts.scheme, netloc, parts.path, query, parts.fragment))
