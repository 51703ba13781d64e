"""The typed parts of a run record besides its results: its gate, waivers, providers, credentials, trend."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any, Literal, TypeVar, cast

from audit.common.channels import ChannelSpec

FailOn = Literal["any", "new"]  # the gate: exit 2 for any finding, or only for new ones
FAIL_ON: tuple[FailOn, ...] = ("any", "new")


@dataclass(frozen=True)
class WaiverRecord:
    """What became of one waiver of the manifest in a run."""

    job: str
    type: str | None
    field: str | None
    reason: str
    owner: str | None
    expires: str  # the last day it holds, YYYY-MM-DD
    source: str  # file:line:col where it is written
    state: str  # live, expired (waives nothing), stale (live, but nothing left to waive)
    waived: int  # findings it covered in this run
    expires_soon: bool

    @property
    def scope(self) -> str:
        """`transcode · TemplateId`, `any type · every field`: what of the job it covers."""
        return f"{self.type or 'any type'} · {self.field or 'every field'}"

    @property
    def what(self) -> str:
        """`transcode 2dc1… Status`: the job (and field) it is about."""
        return f"{self.type or 'job'} {self.job}" + (f" {self.field}" if self.field else "")


@dataclass(frozen=True)
class ProviderLine:
    """One provider's line of a run: where, as whom, what it cost (None: not known, e.g. merged in)."""

    provider: str
    endpoint: str | None = None
    access_key_id: str | None = None  # masked
    credentials: str | None = None  # where the keys came from
    access_key_ids: tuple[str | None, ...] = ()  # masked, every key signed with
    renewals: int = 0
    qps: float | None = None
    jobs: int | None = None
    calls: int | None = None
    retries: int | None = None
    throttles: int | None = None
    run_id: str | None = None  # the run it came from, in a merged record
    account: str | None = None  # the account UID, when the credentials or the answers state it


@dataclass(frozen=True)
class CredentialsUsed:
    """The default provider's keys: where they came from, the masked AccessKey IDs, renewals."""

    source: str | None = None
    access_key_ids: tuple[str | None, ...] = ()
    renewals: int = 0


@dataclass(frozen=True)
class TrendPoint:
    """One earlier run of the same state, for the trend: when, how it ended, its counts."""

    run_id: str
    started_at: str
    status: str
    counts: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class NotificationRecord:
    """What became of one channel after a run: sent, failed (why), skipped (its trigger did not hold),
    off (--no-notify, or not chosen by --notify)."""

    channel: str
    type: str
    on: str
    status: str
    why: str = ""
    attempts: int = 0


@dataclass(frozen=True)
class DiscoveryRecord:
    """What one media source of the manifest found: the media and jobs the service listed, the calls
    it took per operation, and what was wrong with the answers without stopping it."""

    source: str  # file:line:col of the `media:` entry
    provider: str
    window: str  # `2026-11-28T00:00:00Z .. 2026-11-29T00:00:00Z`, or `12 media ids`
    media: int
    jobs: int  # jobs of the asked types the service listed
    added: int  # of them, jobs no other list of the manifest names
    calls: Mapping[str, int] = field(default_factory=dict)  # by operation
    notes: tuple[str, ...] = ()


Part = TypeVar(
    "Part",
    WaiverRecord,
    ProviderLine,
    CredentialsUsed,
    TrendPoint,
    NotificationRecord,
    ChannelSpec,
    DiscoveryRecord,
)


def mask(access_key_id: str | None) -> str | None:
    """An AccessKey ID shortened to its ends: enough to tell keys apart, not to use one."""
    if not access_key_id:
        return None
    return access_key_id if len(access_key_id) <= 8 else f"{access_key_id[:4]}****{access_key_id[-4:]}"


def _is_str(value: Any) -> bool:
    return isinstance(value, str)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _optional(check: Callable[[Any], bool]) -> Callable[[Any], bool]:
    return lambda value: value is None or check(value)


# What each annotation of the parts accepts in results.json: a file of the wrong shape is refused
# on the way in, never a crash in a report writer.
_CHECKS: dict[str, Callable[[Any], bool]] = {
    "str": _is_str,
    "str | None": _optional(_is_str),
    "int": _is_int,
    "int | None": _optional(_is_int),
    "float | None": _optional(lambda v: _is_int(v) or isinstance(v, float)),
    "bool": lambda value: isinstance(value, bool),
    "tuple[str, ...]": lambda value: isinstance(value, list) and all(_is_str(v) for v in value),
    "tuple[str | None, ...]": lambda value: (
        isinstance(value, list) and all(_optional(_is_str)(v) for v in value)
    ),
    "Mapping[str, int]": lambda value: isinstance(value, dict) and all(_is_int(v) for v in value.values()),
}


def checked_fields(kind: type[Any], data: Any, skip: frozenset[str] = frozenset()) -> dict[str, Any]:
    """The fields of dataclass `kind` that `data` (a JSON object) holds, each checked against its
    annotation (lists become tuples); ValueError naming the first that is not of its type."""
    if not isinstance(data, Mapping):
        raise ValueError(f"{kind.__name__}: not an object")
    values: dict[str, Any] = {}
    for item in fields(kind):
        if item.name in skip or item.name not in data:
            continue  # read by the caller, or the dataclass default (a TypeError names what is missing)
        value = data[item.name]
        if not _CHECKS[str(item.type)](value):
            raise ValueError(f"{item.name} of {kind.__name__} is not {item.type}")
        values[item.name] = tuple(value) if isinstance(value, list) else value
    return values


def part_of(kind: type[Part], data: Any) -> Part:
    """A part back from its JSON form; ValueError naming the field when `data` is not one."""
    return kind(**checked_fields(kind, data))


def part_json(
    part: WaiverRecord
    | ProviderLine
    | CredentialsUsed
    | TrendPoint
    | NotificationRecord
    | ChannelSpec
    | DiscoveryRecord,
) -> dict[str, Any]:
    """A part's JSON form (results.json)."""
    document = {f.name: getattr(part, f.name) for f in fields(part)}
    return {
        k: list(v) if isinstance(v, tuple) else dict(v) if isinstance(v, Mapping) else v
        for k, v in document.items()
    }


def fail_on(value: Any) -> FailOn:
    """The gate named by `value`; ValueError for any other."""
    if value not in FAIL_ON:
        raise ValueError(f"fail_on must be one of {', '.join(FAIL_ON)}")
    return cast(FailOn, value)
