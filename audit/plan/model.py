"""The frozen plan of a run: the jobs per lane, reused or asked, the discovery calls, the time at the limits."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from audit.common.jobtypes import JobRef
from audit.manifest.model import JobSpec
from audit.state.store import StoredAnswer
from audit.vod.protocol import ACTION, GET_MEZZANINE_INFO, GET_PLAY_INFO, LIST_JOB_INFO, SEARCH_MEDIA

OPERATIONS = (ACTION, SEARCH_MEDIA, LIST_JOB_INFO, GET_PLAY_INFO, GET_MEZZANINE_INFO)


@dataclass(frozen=True)
class Route:
    """Where and as whom one provider's calls go, known before any GetJobDetail call."""

    provider: str | None
    service: str  # what the state keeps its answers under: the endpoint, or the emulator's data
    endpoint: str
    credentials: str  # where its keys come from, in words (never a secret)
    identity: str | None  # the source of keys (an AccessKey ID, a role ARN); None: cannot be resolved
    stated_account: str | None  # the account the credentials state (an assumed role's), if any
    shares: str  # what its limits are shared by: the account, else the source of keys, as said
    rates: Mapping[str, float]  # calls per second allowed, by operation

    @property
    def label(self) -> str:
        return self.provider or "default"


@dataclass(frozen=True)
class LanePlan:
    """One provider's jobs: the final answers reused without a call, and the jobs asked."""

    route: Route
    account: str | None  # whose stored answers are reused (None: unknown, any answer of the service)
    jobs: tuple[JobSpec, ...]
    reuse: Mapping[JobRef, StoredAnswer]
    # What success produced, asked tonight: the media of the reused successful jobs with output:
    # (one GetPlayInfo each), those of them a source's duration is wanted of (one GetMezzanineInfo),
    # and how many jobs with output: are asked, whose media are known only from their answers.
    play: frozenset[str] = frozenset()
    source: frozenset[str] = frozenset()
    outputs_unknown: int = 0

    @property
    def ask(self) -> int:
        return len(self.jobs) - len(self.reuse)

    def counted(self) -> Counter[str]:
        """Its calls by operation (discovery's aside)."""
        return Counter(
            {ACTION: self.ask, GET_PLAY_INFO: len(self.play), GET_MEZZANINE_INFO: len(self.source)}
        )


@dataclass(frozen=True)
class Plan:
    """A run before it starts; `vod-audit plan` prints it and `vod-audit run` executes it."""

    audit: str
    jobs: tuple[JobSpec, ...]  # the manifest's jobs, or those --target names
    lanes: Mapping[str | None, LanePlan]  # by provider alias
    discovery: Mapping[str, Counter[str]] = field(default_factory=dict)  # calls by account, operation
    # Accounts whose media sources were costed without listing: a GetJobDetail per job they list
    # comes on top of `calls`.
    unknown: frozenset[str] = frozenset()
    strict: bool = False
    refresh: bool = False

    def calls(self) -> Counter[str]:
        """Every call the run makes, by operation (discovery's included)."""
        total: Counter[str] = Counter({operation: 0 for operation in OPERATIONS})
        for lane in self.lanes.values():
            total.update(lane.counted())
        for counted in self.discovery.values():
            total.update(counted)
        return total

    def by_account(self) -> dict[str, tuple[Counter[str], Mapping[str, float]]]:
        """Each account's calls by operation, and the rates it is limited to (the lowest of its providers')."""
        found: dict[str, tuple[Counter[str], dict[str, float]]] = {}
        for lane in self.lanes.values():
            calls, rates = found.setdefault(lane.route.shares, (Counter(), {}))
            calls.update(lane.counted())
            for operation, rate in lane.route.rates.items():
                rates[operation] = min(rate, rates.get(operation, rate))
        for account, counted in self.discovery.items():
            found.setdefault(account, (Counter(), {}))[0].update(counted)
        return dict(found)

    def seconds(self) -> dict[str, float]:
        """Each account's time at its limits: its operations' calls add up (discovery runs first)."""
        return {
            account: sum(n / rates[operation] for operation, n in calls.items() if n and rates.get(operation))
            for account, (calls, rates) in self.by_account().items()
        }

    def time_at_limits(self) -> float:
        """The run's time at the limits: accounts run side by side, so the longest."""
        return max(self.seconds().values(), default=0.0)

    def reused(self) -> int:
        return sum(len(lane.reuse) for lane in self.lanes.values())

    def document(self) -> dict[str, Any]:
        """The plan as `plan --format json` prints it."""
        seconds = self.seconds()
        return {
            "audit": self.audit,
            "calls": dict(self.calls()),
            "jobs": len(self.jobs),
            "reuse": self.reused(),
            "ask": sum(lane.ask for lane in self.lanes.values()),
            "time_at_limits_s": round(self.time_at_limits(), 3),
            "complete": not self.unknown,
            # Jobs with output: asked tonight: their media are known from their answers only, and
            # each may add a GetPlayInfo (and a GetMezzanineInfo) to `calls`.
            "outputs_not_counted": sum(lane.outputs_unknown for lane in self.lanes.values()),
            "strict": self.strict,
            "refresh": self.refresh,
            "providers": [
                {
                    "provider": lane.route.label,
                    "endpoint": lane.route.endpoint,
                    "credentials": lane.route.credentials,
                    "account": lane.route.shares,
                    "jobs": len(lane.jobs),
                    "reuse": len(lane.reuse),
                    "ask": lane.ask,
                }
                for lane in self.lanes.values()
            ],
            "accounts": [
                {
                    "account": account,
                    "calls": {operation: n for operation, n in calls.items() if n},
                    "rates": dict(rates),
                    "time_at_limits_s": round(seconds[account], 3),
                    "discovered_jobs_not_counted": account in self.unknown,
                }
                for account, (calls, rates) in self.by_account().items()
            ],
        }
