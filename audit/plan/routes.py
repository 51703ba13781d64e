"""Each provider's route, from its open connection (a run) or from where its keys would come from (a plan)."""

from __future__ import annotations

import os
from collections.abc import Mapping

from audit.calls.connection import Connection, Fixed, keys_from_env
from audit.credentials.records import CredentialError, account_of_arn
from audit.credentials.sources import Static
from audit.options import RunOptions, operation_rates
from audit.plan.model import Route
from audit.results.parts import mask
from audit.vod import endpoints
from audit.vod.protocol import ACTION


def shown(identity: str) -> str:
    """A source of keys as outputs name it: an AccessKey ID shortened as every report shortens it."""
    kind, _, name = identity.partition(" ")
    return f"key {mask(name)}" if kind == "key" else identity


def route_of(conn: Connection) -> Route:
    """The route of an open connection: its keys resolved, its limiters shared by account."""
    source = conn.keys.source
    return Route(
        provider=conn.provider,
        service=conn.service,
        endpoint=conn.endpoint.url,
        credentials=source.describe,
        identity=source.identity,
        stated_account=conn.keys.current().account,
        shares=shown(conn.account),
        rates={ACTION: conn.qps, **{operation: limiter.qps for operation, limiter in conn.limiters.items()}},
    )


def routes_of(connections: Mapping[str | None, Connection]) -> dict[str | None, Route]:
    return {alias: route_of(conn) for alias, conn in connections.items()}


def located(alias: str | None, options: RunOptions, fixed: Fixed | None) -> Route:
    """A provider's route found without a call: the source of keys the credential chain would use
    (an assumed role's account read from its ARN, as its temporary keys will state it)."""
    identity: str | None
    if fixed is not None:
        words, identity = "the embedded emulator's own key", Static(fixed.credentials).identity
        service, url = fixed.service, fixed.url
    else:
        url = endpoints.resolve(options.region, options.endpoint, options.insecure_http).url
        service = url
        words, identity = _credentials(options)
    kind, _, name = (identity or "").partition(" ")
    stated = account_of_arn(name) if kind == "role" else None
    shares = (
        f"account {stated}" if stated else shown(identity) if identity else f"provider {alias or 'default'}"
    )
    return Route(
        provider=alias,
        service=service,
        endpoint=url,
        credentials=words,
        identity=identity,
        stated_account=stated,
        shares=shares,
        rates=operation_rates(options),
    )


def _credentials(options: RunOptions) -> tuple[str, str | None]:
    """Where a provider's keys would come from, in words, and the source's identity (None when it
    cannot be resolved)."""
    try:
        if options.credentials_env:
            keys = keys_from_env(options.credentials_env, os.environ)
            return keys.source.describe, keys.source.identity
        from audit.credentials.chain import locate

        step, source = locate(options.profile, sts_endpoint=options.sts_endpoint)
        return f"{source.describe} (credential chain: {step})", source.identity
    except CredentialError as exc:
        return f"cannot be resolved: {exc}", None
