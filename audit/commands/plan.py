"""`vod-audit plan`: what a run would do and cost, before the night: jobs, calls, time, credentials, changes."""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.commands.embedded import embedded
from audit.commands.manifests import load_or_explain
from audit.credentials.records import CredentialError
from audit.discover.walk import Discovery
from audit.errors import ExitStatus, UserError
from audit.jobtypes import JobRef
from audit.manifest.model import JobSpec, Manifest
from audit.options import RunOptions, for_provider, resolve, state_path
from audit.run.connection import DEFAULT, Fixed, account_key, keys_from_env, open_connections
from audit.run.state import State
from audit.run.waivers import SOON
from audit.runparts import mask
from audit.terminal import Echo
from audit.timeutil import format_duration, parse_duration
from audit.vod.protocol import ACTION, LIST_JOB_INFO, PAGE_SIZE, SEARCH_MEDIA

SHOWN = 5  # job ids named per change; the counts say the rest


@dataclass
class Account:
    """The calls one account's providers would make, and how long they take at its limits."""

    rates: dict[str, float]
    calls: Counter[str] = field(default_factory=Counter)
    unknown: bool = False  # discovery not asked: its calls are not known

    @property
    def seconds(self) -> float:
        # Discovery runs before the jobs are asked, so an account's operations add up.
        return sum(count / self.rates[operation] for operation, count in self.calls.items())


def credential_line(options: RunOptions, fixed: Fixed | None) -> tuple[str, str | None]:
    """Where a provider's keys would come from, found without a call: (words, the source's stable
    identity, which providers sharing keys share a limit by; None when it cannot be resolved)."""
    if fixed is not None:
        return "the embedded emulator's own key", "emulator"
    try:
        if options.credentials_env:
            keys = keys_from_env(options.credentials_env, os.environ)
            return keys.source.describe, keys.source.identity
        from audit.credentials.chain import locate

        step, source = locate(options.profile, sts_endpoint=options.sts_endpoint)
        return f"{source.describe} (credential chain: {step})", source.identity
    except CredentialError as exc:
        return f"cannot be resolved: {exc}", None


def shown(identity: str) -> str:
    """A source of keys as plan names it: an AccessKey ID shortened as every report shortens it."""
    kind, _, name = identity.partition(" ")
    return f"key {mask(name)}" if kind == "key" else identity


def execute(
    manifests: tuple[str, ...],
    flags: Mapping[str, Any],
    *,
    discover: bool,
    budget: str | None,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    window = parse_duration(budget) if budget else None
    if budget and window is None:
        raise UserError(f"--budget {budget!r} is not a duration such as 60m or 2h")
    manifest = load_or_explain(manifests, err, cached=True)
    options = resolve(flags, manifest.provider, Path(manifests[0]).parent)
    state = state_path(options, manifests)
    needed = {s.provider for s in manifest.jobs} | {q.provider for q in manifest.queries} or {DEFAULT}
    echo(f"plan for audit {manifest.audit!r} ({len(manifest.sources)} file(s)), no GetJobDetail call made")
    resolved = True
    with embedded(options.emulator) as fixed:
        per_provider = {
            alias: options if alias is None else for_provider(options, manifest.providers[alias])
            for alias in sorted(needed, key=lambda a: (a is not None, a or ""))
        }
        # Without a call, providers are counted per source of keys: the same keys, the same limits.
        accounts: dict[str | None, str] = {}
        for alias, opts in per_provider.items():
            words, identity = credential_line(opts, fixed)
            resolved = resolved and identity is not None
            accounts[alias] = shown(identity) if identity else f"provider {alias or 'default'}"
            echo(f"  provider {alias or 'default'}: credentials {words}")
        found: list[Discovery] = []
        windows: dict[int, dict[str, int]] = {}  # a media source's media per SearchType, by its index
        if manifest.queries and resolved:
            from audit.discover.run import discover_all
            from audit.discover.walk import counted

            with open_connections(options, manifest.providers, needed, threading.Event(), fixed) as conns:
                accounts = {alias: shown(account_key(conn.keys)) for alias, conn in conns.items()}
                if discover:
                    manifest, _, found = discover_all(manifest, conns, threading.Event())
                else:
                    now = datetime.now(UTC)
                    for index, query in enumerate(manifest.queries):
                        if not query.media_ids:
                            windows[index] = counted(query, conns[query.provider], threading.Event(), now)
        services = {
            alias: fixed.service if fixed is not None else _endpoint(opts)
            for alias, opts in per_provider.items()
        }
        _report(manifest, per_provider, services, accounts, (found, windows), state, options, window, echo)
    if not resolved:
        err("vod-audit: a provider's credentials cannot be resolved, so a run could not start: exit 1")
        return ExitStatus.ERROR
    return ExitStatus.OK


def _endpoint(options: RunOptions) -> str:
    from audit.vod import endpoints

    return endpoints.resolve(options.region, options.endpoint, options.insecure_http).url


def _report(
    manifest: Manifest,
    per_provider: Mapping[str | None, RunOptions],
    services: Mapping[str | None, str],
    accounts: Mapping[str | None, str],
    asked: tuple[list[Discovery], dict[int, dict[str, int]]],
    state_file: Path,
    options: RunOptions,
    budget: float | None,
    echo: Echo,
) -> None:
    found, windows = asked
    by_provider: dict[str | None, list[JobSpec]] = {alias: [] for alias in per_provider}
    for spec in manifest.jobs:
        by_provider.setdefault(spec.provider, []).append(spec)
    state = State(state_file, read_only=True) if state_file.is_file() else None
    try:
        final = {
            alias: _final(state, services[alias], specs) if state and not options.refresh else 0
            for alias, specs in by_provider.items()
        }
        last = state.last_jobs(manifest.audit) if state is not None else None
    finally:
        if state is not None:
            state.close()
    origins = Counter(spec.origin for spec in manifest.jobs)
    echo(
        f"  jobs: {len(manifest.jobs):,} ({', '.join(f'{k} {n:,}' for k, n in sorted(origins.items())) or 'none'})"
    )
    usage: dict[str, Account] = {}
    for alias, specs in by_provider.items():
        opts = per_provider[alias]
        account = usage.setdefault(
            accounts[alias],
            Account({ACTION: opts.qps, SEARCH_MEDIA: opts.search_qps, LIST_JOB_INFO: opts.list_qps}),
        )
        ask = len(specs) - final[alias]
        account.calls[ACTION] += ask
        echo(
            f"  provider {alias or 'default'} ({services[alias]}): {len(specs):,} jobs, {final[alias]:,} final "
            f"in state, {ask:,} to ask"
        )
    for discovery in found:
        usage[accounts[discovery.query.provider]].calls.update(discovery.calls)
        echo(
            f"  discovery {discovery.query.position} ({discovery.provider}, {discovery.window}): "
            f"{len(discovery.media):,} media, {len(discovery.jobs):,} jobs"
        )
    if manifest.queries and not found:
        for index, query in enumerate(manifest.queries):
            account = usage[accounts[query.provider]]
            account.unknown = True  # the jobs discovery lists, each one GetJobDetail
            media = len(query.media_ids) if query.media_ids else sum(windows.get(index, {}).values())
            if index in windows:
                account.calls[SEARCH_MEDIA] += sum(
                    max(1, -(-n // PAGE_SIZE)) for n in windows[index].values()
                )
            account.calls[LIST_JOB_INFO] += media * len(query.types)
            said = f"{media:,} media" + (
                " in the window (SearchMedia's Total)" if index in windows else " named"
            )
            echo(f"  discovery {query.position}: {said}; --discover lists their jobs")
    longest = 0.0
    for name, account in usage.items():
        calls = ", ".join(f"{op} {n:,} at {account.rates[op]:g}/s" for op, n in account.calls.items() if n)
        longest = max(longest, account.seconds)
        extra = " + a GetJobDetail per job discovery lists" if account.unknown else ""
        echo(f"  calls ({name}): {calls or 'none'}{extra}: {format_duration(account.seconds)} at the limits")
    total = sum(sum(a.calls.values()) for a in usage.values())
    verdict = ""
    if budget is not None:
        verdict = f", {'over' if longest > budget else 'within'} the budget of {format_duration(budget)}"
    echo(f"calls: {total:,}; time at the limits: {format_duration(longest)}{verdict}")
    _waivers(manifest, echo)
    _changes(manifest, last, bool(manifest.queries) and not found, echo)


def _final(state: State, service: str, specs: list[JobSpec]) -> int:
    stored = state.lookup(service, (spec.ref for spec in specs))
    return sum(1 for answer in stored.values() if answer.final)


def _waivers(manifest: Manifest, echo: Echo) -> None:
    now = datetime.now(UTC)
    for waiver in sorted(manifest.waivers, key=lambda w: w.expires):
        if waiver.live(now) and waiver.lapses - now <= SOON:
            echo(
                f"  waiver {waiver.job_id} ({waiver.position}) expires {waiver.expires} (owner {waiver.owner or '-'})"
            )


def _changes(manifest: Manifest, last: set[JobRef] | None, partial: bool, echo: Echo) -> None:
    """Jobs added and removed since the audit's last complete run; `partial`: media sources not asked,
    so the jobs they add are unknown and none can be said removed."""
    if last is None:
        echo("  since the last run: no complete run of this audit in the state")
        return
    now = {spec.ref for spec in manifest.jobs}
    added, removed = sorted(now - last), [] if partial else sorted(last - now)
    said = "removed: not known without --discover" if partial else f"{len(removed):,} removed"
    echo(f"  since the last complete run: {len(added):,} jobs added, {said}")
    for sign, refs in (("+", added), ("-", removed)):
        for ref in refs[:SHOWN]:
            echo(f"    {sign} {ref.job_type} {ref.job_id}")
        if len(refs) > SHOWN:
            echo(f"    {sign} and {len(refs) - SHOWN:,} more")
