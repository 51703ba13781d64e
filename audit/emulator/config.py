"""The emulator's settings: one frozen record, from which `vod-audit emulator` takes its flag defaults."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from audit.vod.protocol import (
    DOCUMENTED_QPS,
    GET_MEZZANINE_INFO,
    GET_PLAY_INFO,
    LIST_JOB_INFO,
    OPERATION_QPS,
    PAGED_RESULTS,
    SEARCH_MEDIA,
)

FAULTS = ("internal", "unavailable", "reset", "truncated", "slow")
UnknownJob = Literal["empty", "error"]


@dataclass(frozen=True)
class EmulatorConfig:
    """Everything `vod-audit emulator` takes as flags."""

    host: str = "127.0.0.1"
    port: int = 0
    access_key_id: str = "emulator-ak"
    access_key_secret: str = field(default="emulator-secret", repr=False)
    security_token: str | None = field(default=None, repr=False)
    # More accounts, each (AccessKey ID, secret, token or None) with a quota of its own
    accounts: tuple[tuple[str, str, str | None], ...] = field(default=(), repr=False)
    qps: float = DOCUMENTED_QPS  # per account, as the gateway limits the real account
    search_qps: float = OPERATION_QPS[SEARCH_MEDIA]  # SearchMedia's own limit, per account
    list_qps: float = OPERATION_QPS[LIST_JOB_INFO]  # ListJobInfo's own limit, per account
    play_qps: float = OPERATION_QPS[GET_PLAY_INFO]  # GetPlayInfo's own limit, per account
    mezzanine_qps: float = OPERATION_QPS[GET_MEZZANINE_INFO]  # GetMezzanineInfo's, per account
    paged_results: int = PAGED_RESULTS  # how far SearchMedia pages without a ScrollToken
    token_lifetime: float = 3600.0  # seconds every temporary credential it issues lasts
    ecs_role: str = "vod-audit-emulator-role"  # the instance role its metadata service names
    background_qps: float = 0.0
    latency_ms: float = 0.0
    latency_jitter_ms: float | None = None  # default: a third of latency_ms
    fault_rate: float = 0.0
    faults: tuple[str, ...] = FAULTS
    unknown_job: UnknownJob = "empty"
    max_age_days: float = 183.0  # GetJobDetail only sees jobs of the last six months
    slow_seconds: float = 30.0
    seed: int | None = None
    queue: str | None = None  # a Simple Message Queue served beside VOD (audit.emulator.queues)
    queue_visibility: float = 30.0  # seconds a received message stays hidden (the service's default)
    failing_jobs: frozenset[str] = frozenset()  # JobIds every call for which fails with InternalError
    failing_media: frozenset[str] = frozenset()  # MediaIds every ListJobInfo call for which fails so
