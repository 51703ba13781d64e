"""Where and as whom to call, and how hard: one connection per provider, one limiter per account."""

from __future__ import annotations

import math
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import audit.vod.endpoints as endpoints
from audit.calls.fetch import Fetcher
from audit.calls.ratelimit import RateLimiter
from audit.common.jobtypes import JobRef
from audit.credentials import chain
from audit.credentials.records import CredentialError
from audit.credentials.refresh import Keys
from audit.credentials.sources import Static
from audit.options import RunOptions, calls_for_rate, for_provider, operation_rates
from audit.vod.client import SignatureVersion, VodClient
from audit.vod.endpoints import Endpoint
from audit.vod.keys import Credentials
from audit.vod.protocol import ACTION
from audit.vod.records import CallResult

DEFAULT = None  # the alias of the default provider: today's `provider:` block and flags


@dataclass(frozen=True)
class Fixed:
    """One endpoint every provider calls with the same keys: the embedded emulator a command started."""

    url: str
    credentials: Credentials
    service: str  # what the state keeps its answers under


@dataclass(frozen=True)
class Connection:
    """One provider: its endpoint and keys, the call settings its options resolved to, and the
    limiter of its account (shared by every provider of that account)."""

    endpoint: Endpoint
    keys: Keys
    emulator_url: str | None  # set when auditing the embedded emulator
    signature: SignatureVersion
    concurrency: int  # calls in flight this connection's account may have (shared by its providers)
    timeout: float
    retries: int
    limiter: RateLimiter
    service: str = ""  # what the state keeps its answers under: the endpoint, or the emulator's data
    provider: str | None = DEFAULT
    account: str = ""  # what its limiter is shared by: the account UID, else the keys' identity
    # The other operations' limiters (discovery, output checks), each at its own rate, shared like `limiter`
    limiters: Mapping[str, RateLimiter] = field(default_factory=dict)

    @classmethod
    def of(
        cls,
        endpoint: Endpoint,
        keys: Keys | Credentials,
        options: RunOptions,
        emulator_url: str | None = None,
        *,
        limiter: RateLimiter | None = None,
        calls: int | None = None,
        service: str | None = None,
        provider: str | None = DEFAULT,
        limiters: Mapping[str, RateLimiter] | None = None,
    ) -> Connection:
        """Without `limiter` and `calls`: a limiter and calls in flight of its own, from `options`."""
        held = keys if isinstance(keys, Keys) else Keys.fixed(keys)
        return cls(
            endpoint,
            held,
            emulator_url,
            options.signature,
            calls or options.calls_in_flight,
            options.timeout,
            options.retries,
            limiter or RateLimiter(options.qps),
            service or endpoint.url,
            provider,
            account_key(held),
            limiters if limiters is not None else operation_limiters(options),
        )

    @property
    def qps(self) -> float:
        """The rate its account is limited to."""
        return self.limiter.qps

    @property
    def label(self) -> str:
        return self.provider or "default"

    def client(self) -> VodClient:
        return VodClient(
            self.endpoint,
            self.keys,
            signature=self.signature,
            timeout=self.timeout,
            pool_size=self.concurrency,
        )

    def fetcher(
        self, client: VodClient, operation: str = ACTION, ask: Callable[[JobRef], CallResult] | None = None
    ) -> Fetcher:
        """Retries through its account's limiter of `operation`; a call gives up after twice the time
        all its attempts may take."""
        deadline = max(60.0, self.timeout * (self.retries + 1) * 2)
        limiter = self.limiters.get(operation, self.limiter)
        return Fetcher(client, limiter, retries=self.retries, deadline=deadline, ask=ask)


def operation_limiters(*options: RunOptions) -> dict[str, RateLimiter]:
    """A limiter per operation besides GetJobDetail for one account, at the lowest rate its
    providers' options give (audit.options.operation_rates)."""
    rates = [operation_rates(o) for o in options]
    return {op: RateLimiter(min(r[op] for r in rates)) for op in rates[0] if op != ACTION}


def account_key(keys: Keys) -> str:
    """What the limit is counted by: the account, when the credentials state it, else their source."""
    account = keys.current().account
    return f"account {account}" if account else keys.source.identity


def keys_from_env(names: Mapping[str, str], env: Mapping[str, str]) -> Keys:
    """Keys from the environment variables a provider names (`credentials_env`)."""
    values = {role: env.get(name, "") for role, name in names.items()}
    missing = [names[r] for r in ("access_key_id", "access_key_secret") if not values.get(r)]
    if missing:
        raise CredentialError(f"{' and '.join(missing)} not set (named by credentials_env)")
    described = f"environment variables {names['access_key_id']}, {names['access_key_secret']}"
    creds = Credentials.of(
        values["access_key_id"], values["access_key_secret"], values.get("security_token") or None, described
    )
    return Keys(Static(creds), creds)


def split_calls(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """`total` calls in flight shared in proportion to `weights` (each at least one)."""
    whole = sum(weights.values()) or 1.0
    return {name: max(1, math.floor(total * weight / whole)) for name, weight in weights.items()}


@contextmanager
def open_connections(
    default: RunOptions,
    providers: Mapping[str, Mapping[str, Any]] | None = None,
    needed: set[str | None] | None = None,
    stop: threading.Event | None = None,
    fixed: Fixed | None = None,
) -> Iterator[dict[str | None, Connection]]:
    """A connection per provider alias `needed` (DEFAULT included when asked), with temporary keys
    kept renewed meanwhile (a renewal that keeps failing sets `stop`). Providers whose keys are the
    same share them; providers of one account share one limiter, at the lowest qps among them, and
    the run's calls in flight (`--concurrency`, else each account's qps within 4-64).

    With `fixed`, every provider calls that one endpoint with its keys instead (the embedded
    emulator, which the command starts): real credentials are never resolved or sent to it."""
    providers = providers or {}
    wanted = sorted(needed if needed is not None else {DEFAULT}, key=lambda a: (a is not None, a or ""))
    options = {
        alias: default if alias is None else for_provider(default, providers[alias]) for alias in wanted
    }
    with ExitStack() as cleanup:
        if fixed is not None:
            keys_of = {alias: Keys.fixed(fixed.credentials) for alias in wanted}
            where = {alias: endpoints.resolve(endpoint=fixed.url) for alias in wanted}
            service, url = fixed.service, fixed.url
        else:
            where = {a: endpoints.resolve(o.region, o.endpoint, o.insecure_http) for a, o in options.items()}
            keys_of = _keys(options, stop, cleanup)
            service, url = "", None
        by_account: dict[str, list[str | None]] = {}
        for alias in wanted:
            by_account.setdefault(account_key(keys_of[alias]), []).append(alias)
        rates = {acc: min(options[a].qps for a in members) for acc, members in by_account.items()}
        calls = (
            split_calls(default.concurrency, rates)
            if default.concurrency
            else {acc: calls_for_rate(rate) for acc, rate in rates.items()}
        )
        connections: dict[str | None, Connection] = {}
        for account, members in by_account.items():
            limiter = RateLimiter(rates[account])
            limiters = operation_limiters(*(options[a] for a in members))
            for alias in members:
                connections[alias] = Connection.of(
                    where[alias],
                    keys_of[alias],
                    options[alias],
                    url,
                    limiter=limiter,
                    calls=calls[account],
                    service=service or None,
                    provider=alias,
                    limiters=limiters,
                )
        yield connections


def _keys(
    options: Mapping[str | None, RunOptions], stop: threading.Event | None, cleanup: ExitStack
) -> dict[str | None, Keys]:
    """Keys per provider; providers configured alike (the same profile, variables, STS endpoint)
    share one set, so that a role is assumed once and renewed once."""
    made: dict[tuple[Any, ...], Keys] = {}
    keys: dict[str | None, Keys] = {}
    for alias, opts in options.items():
        how = (opts.profile, tuple(sorted((opts.credentials_env or {}).items())), opts.sts_endpoint)
        if how not in made:
            try:
                made[how] = _resolve(opts, stop)
            except CredentialError as exc:
                raise CredentialError(f"provider {alias}: {exc}" if alias else str(exc)) from None
            cleanup.callback(made[how].close)
            made[how].start()
        keys[alias] = made[how]
    return keys


def _resolve(opts: RunOptions, stop: threading.Event | None) -> Keys:
    if opts.credentials_env:
        return keys_from_env(opts.credentials_env, os.environ)
    found = chain.resolve(opts.profile, sts_endpoint=opts.sts_endpoint, insecure_http=opts.insecure_http)
    return Keys(found.source, found.credentials, on_failure=lambda reason: stop.set() if stop else None)


@contextmanager
def open_connection(options: RunOptions, fixed: Fixed | None = None) -> Iterator[Connection]:
    """The default provider's connection alone (`import`)."""
    with open_connections(options, fixed=fixed) as connections:
        yield connections[DEFAULT]
