"""The one function that makes a plan, and the one rule of which stored answers a run may reuse."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence

from audit.common.errors import UserError
from audit.common.jobtypes import JobRef, job_type, transcoded_media
from audit.manifest.model import JobSpec, Manifest
from audit.options import RunOptions
from audit.plan.model import LanePlan, Plan, Route
from audit.state.store import Store, StoredAnswer
from audit.vod.protocol import LIST_JOB_INFO, PAGE_SIZE, SEARCH_MEDIA


def targeted(jobs: Sequence[JobSpec], targets: Sequence[str]) -> tuple[JobSpec, ...]:
    """The manifest's jobs, or only those named by --target (each target must name a job)."""
    if not targets:
        return tuple(jobs)
    ids = {job.job_id for job in jobs}
    unknown = [t for t in targets if t not in ids]
    if unknown:
        raise UserError(f"--target {unknown[0]}: no such job in the manifest")
    wanted = set(targets)
    return tuple(job for job in jobs if job.job_id in wanted)


def reuse_account(route: Route, store: Store | None) -> str | None:
    """The account whose stored answers a provider may reuse: the one its credentials state, else the
    one the state learnt for its source of keys (None: unknown, and any answer of its service)."""
    if route.stated_account:
        return route.stated_account
    if store is None or route.identity is None:
        return None
    return store.account_of(route.identity)


def build(
    manifest: Manifest,
    routes: Mapping[str | None, Route],
    store: Store | None,
    options: RunOptions,
    *,
    discovery: Iterable[tuple[str | None, Counter[str]]] = (),
    unknown: Iterable[str | None] = (),
    listed: Mapping[JobRef, tuple[str, str | None]] | None = None,
) -> Plan:
    """The plan of a run of `manifest` (discovered jobs included, when discovery ran) with `options`
    (--target, --refresh and --strict read from the one record run and plan both resolve): each
    provider's jobs, the final answers in `store` it reuses (none with --refresh), the calls discovery
    made or will make (`discovery`: by provider), and the providers whose discovered jobs are not yet
    known."""
    refresh = options.refresh
    jobs = targeted(manifest.jobs, options.targets)
    by_provider: dict[str | None, list[JobSpec]] = {alias: [] for alias in routes}
    for spec in jobs:
        by_provider[spec.provider].append(spec)
    lanes = {}
    for alias, route in routes.items():
        mine = tuple(by_provider[alias])
        account = reuse_account(route, store)
        stored = (
            {} if refresh or store is None else store.lookup(route.service, (j.ref for j in mine), account)
        )
        reuse = {ref: a for ref, a in stored.items() if a.final}
        lanes[alias] = LanePlan(route, account, mine, reuse, *outputs_of(mine, reuse, listed or {}))
    calls: dict[str, Counter[str]] = {}
    for alias, counted in discovery:
        calls.setdefault(routes[alias].shares, Counter()).update(counted)
    return Plan(
        manifest.audit,
        jobs,
        lanes,
        calls,
        frozenset(routes[alias].shares for alias in unknown),
        options.strict,
        refresh,
    )


def outputs_of(
    jobs: Iterable[JobSpec],
    reuse: Mapping[JobRef, StoredAnswer],
    listed: Mapping[JobRef, tuple[str, str | None]],
) -> tuple[frozenset[str], frozenset[str], int]:
    """The media whose output is asked tonight, those whose source is, and the jobs with output:
    whose media only their answer tonight will tell: the run's rule (audit.run.outputs), on the
    stored answers, else on what discovery listed (media and Status)."""
    play: set[str] = set()
    source: set[str] = set()
    unknown = 0
    for spec in jobs:
        if spec.output is None or spec.job_type != "transcode":
            continue
        stored = reuse.get(spec.ref)
        if stored is not None:
            media = transcoded_media(json.loads(stored.body))
        elif spec.ref in listed:
            media, status = listed[spec.ref]
            media = media if status in job_type("transcode").success else None
        else:
            unknown += 1
            continue
        if media is None:
            continue
        play.add(media)
        if spec.output.needs_source:
            source.add(media)
    return frozenset(play), frozenset(source), unknown


def window_calls(totals: Mapping[str, int], types: int) -> Counter[str]:
    """What listing a window costs, from SearchMedia's Total per media type: its pages, then a
    ListJobInfo per media and job type."""
    return Counter(
        {
            SEARCH_MEDIA: sum(max(1, -(-n // PAGE_SIZE)) for n in totals.values()),
            LIST_JOB_INFO: sum(totals.values()) * types,
        }
    )
