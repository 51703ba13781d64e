"""The options of a run: one typed record, resolved once from flags, the manifest's provider block and defaults."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal

from audit.common.where import DEFAULT_SCHEMA, SCHEMES, StateAt, state_at, without_password
from audit.report import FORMAT_NAMES
from audit.results.parts import FailOn
from audit.vod.endpoints import DEFAULT_REGION
from audit.vod.protocol import (
    ACTION,
    DOCUMENTED_QPS,
    GET_MEZZANINE_INFO,
    GET_PLAY_INFO,
    LIST_JOB_INFO,
    OPERATION_QPS,
    SEARCH_MEDIA,
)

DEFAULT_STATE = ".vod-audit/state.db"
# Options that only a flag sets: they describe one invocation, not how an account is audited.
_FLAG_ONLY = {"provider": False}


@dataclass(frozen=True)
class RunOptions:
    """Everything `run` (and the connection options of `import`) can be told; each default written once."""

    out: str = "reports"
    format: tuple[str, ...] = FORMAT_NAMES
    region: str = DEFAULT_REGION
    endpoint: str | None = None
    profile: str | None = None
    sts_endpoint: str | None = None  # None: sts.aliyuncs.com, or by ALIBABA_CLOUD_STS_REGION
    # Names of the environment variables holding the AccessKey: {access_key_id, access_key_secret,
    # security_token}; None: the credential chain
    credentials_env: dict[str, str] | None = None
    signature: Literal["v3", "v1"] = "v3"
    qps: float = DOCUMENTED_QPS
    concurrency: int | None = None  # None: calls_in_flight derives it from qps
    search_qps: float = OPERATION_QPS[SEARCH_MEDIA]  # discovery's SearchMedia calls per second
    list_qps: float = OPERATION_QPS[LIST_JOB_INFO]  # discovery's ListJobInfo calls per second
    timeout: float = 10.0
    retries: int = 5
    state: str | None = None  # None: DEFAULT_STATE beside the first manifest (see state_path)
    state_schema: str = DEFAULT_SCHEMA  # a PostgreSQL state's schema
    strict: bool = False
    insecure_http: bool = False
    fail_on: FailOn = "any"  # new: exit 2 only for findings new since the last run
    refresh: bool = field(default=False, metadata=_FLAG_ONLY)
    targets: tuple[str, ...] = field(default=(), metadata=_FLAG_ONLY)
    emulator: str | None = field(default=None, metadata=_FLAG_ONLY)
    progress: bool | None = field(default=None, metadata=_FLAG_ONLY)
    notify: tuple[str, ...] = field(default=(), metadata=_FLAG_ONLY)  # only these channels; (): all
    no_notify: bool = field(default=False, metadata=_FLAG_ONLY)
    notify_strict: bool = field(default=False, metadata=_FLAG_ONLY)  # a failed notification: exit 1
    allow_empty: bool = field(default=False, metadata=_FLAG_ONLY)  # no job to audit is expected (exit 0)
    wait_lock: float = field(default=0.0, metadata=_FLAG_ONLY)  # seconds to wait for another run's lock
    metrics_file: str | None = field(default=None, metadata=_FLAG_ONLY)  # Prometheus text, for node_exporter
    pushgateway: str | None = field(default=None, metadata=_FLAG_ONLY)  # a Pushgateway's URL
    pushgateway_job: str = field(default="vod-audit", metadata=_FLAG_ONLY)
    unmanaged: str | None = field(default=None, metadata=_FLAG_ONLY)  # every media source's, when given

    @property
    def calls_in_flight(self) -> int:
        """--concurrency, or calls_for_rate(qps)."""
        return self.concurrency or calls_for_rate(self.qps)

    def record(self) -> dict[str, Any]:
        """The serialised form kept in the run record (results.json `options`)."""
        values = asdict(self)
        values["format"] = list(self.format)
        values["targets"] = list(self.targets)
        values["notify"] = list(self.notify)
        values["concurrency"] = self.calls_in_flight
        if self.state:
            values["state"] = without_password(self.state)
        return values


def operation_rates(options: RunOptions) -> dict[str, float]:
    """Calls per second each operation is allowed for one provider: its options' (qps, search_qps,
    list_qps), and the documented limits of what success produced (output checks)."""
    return {
        ACTION: options.qps,
        SEARCH_MEDIA: options.search_qps,
        LIST_JOB_INFO: options.list_qps,
        GET_PLAY_INFO: OPERATION_QPS[GET_PLAY_INFO],
        GET_MEZZANINE_INFO: OPERATION_QPS[GET_MEZZANINE_INFO],
    }


def calls_for_rate(qps: float) -> int:
    """Enough calls in flight to keep a rate busy: the qps, within 4-64."""
    return min(64, max(4, math.ceil(qps)))


DEFAULTS = RunOptions()
PROVIDER_KEYS = tuple(f.name for f in fields(RunOptions) if f.metadata.get("provider", True))
_TYPES: dict[str, Any] = {
    "qps": float,
    "search_qps": float,
    "list_qps": float,
    "timeout": float,
    "retries": int,
    "concurrency": int,
}


def resolve(
    flags: Mapping[str, Any], provider: Mapping[str, Any], manifest_dir: Path | None = None
) -> RunOptions:
    """A flag wins over the manifest's provider block, which wins over the default.

    The provider block's `state` is relative to the manifest that sets it (`manifest_dir`); a flag's
    paths are relative to the working directory, as every command-line path is.
    """
    values: dict[str, Any] = {}
    for option in fields(RunOptions):
        name = option.name
        if flags.get(name) not in (None, ()):
            values[name] = flags[name]
        elif name in PROVIDER_KEYS and provider.get(name) is not None:
            values[name] = provider[name]
            if name == "state" and manifest_dir is not None and not values[name].startswith(SCHEMES):
                values[name] = str(manifest_dir / values[name])
    for name, convert in _TYPES.items():
        if values.get(name) is not None:
            values[name] = convert(values[name])
    for name in ("format", "targets", "notify"):
        if name in values:
            values[name] = tuple(dict.fromkeys(values[name]))
    return RunOptions(**values)


# A named provider's account: written in its own block, never taken from the default provider.
ACCOUNT_KEYS = ("region", "endpoint", "profile", "sts_endpoint", "credentials_env")
# How its calls are made: its own block's, else the default provider's (flags included).
CALL_KEYS = ("signature", "qps", "search_qps", "list_qps", "timeout", "retries", "insecure_http")


def for_provider(default: RunOptions, settings: Mapping[str, Any]) -> RunOptions:
    """The options of a named provider (`providers: ALIAS:`): its account from its own settings,
    how to call from them or else from the default provider's resolved options."""
    values: dict[str, Any] = {name: settings.get(name) for name in ACCOUNT_KEYS}
    values["region"] = values["region"] or DEFAULT_REGION
    for name in CALL_KEYS:
        values[name] = settings[name] if settings.get(name) is not None else getattr(default, name)
    for name, convert in _TYPES.items():
        if name in values and values[name] is not None:
            values[name] = convert(values[name])
    return replace(default, **values)


def state_path(options: RunOptions, manifests: Sequence[str]) -> StateAt:
    """Where a run keeps its state: the resolved `state` option (a path or a PostgreSQL URL), else
    DEFAULT_STATE beside the first manifest, so that a manifest audited from any working directory
    finds the same history."""
    text = options.state or str(Path(manifests[0]).parent / DEFAULT_STATE)
    return state_at(text, options.state_schema)
