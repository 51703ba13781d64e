"""`vod-audit plan`: the plan a run would execute, before the night: jobs, calls, time, credentials, changes."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Mapping
from contextlib import ExitStack, closing
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.calls.connection import DEFAULT, open_connections
from audit.commands.embedded import embedded
from audit.commands.manifests import load_or_explain
from audit.common.errors import ExitStatus, UserError
from audit.common.jobtypes import JobRef
from audit.common.terminal import Echo
from audit.common.timeutil import format_duration, parse_duration
from audit.manifest.model import Manifest
from audit.options import RunOptions, for_provider, resolve, state_path
from audit.plan.build import build, window_calls
from audit.plan.model import Plan
from audit.plan.routes import located, routes_of
from audit.run.waivers import SOON
from audit.state.backends import open_existing
from audit.vod.protocol import LIST_JOB_INFO

SHOWN = 5  # job ids named per change; the counts say the rest


def execute(
    manifests: tuple[str, ...],
    flags: Mapping[str, Any],
    *,
    discover: bool,
    budget: str | None,
    as_json: bool = False,
    echo: Echo,
    err: Echo,
) -> ExitStatus:
    window = parse_duration(budget) if budget else None
    if budget and window is None:
        raise UserError(f"--budget {budget!r} is not a duration such as 60m or 2h")
    manifest = load_or_explain(manifests, err, cached=True)
    options = resolve(flags, manifest.provider, Path(manifests[0]).parent)
    needed = {s.provider for s in manifest.jobs} | {q.provider for q in manifest.queries} or {DEFAULT}
    per_provider = {
        alias: options if alias is None else for_provider(options, manifest.providers[alias])
        for alias in sorted(needed, key=lambda a: (a is not None, a or ""))
    }
    lines: list[str] = []
    with ExitStack() as stack:
        fixed = stack.enter_context(embedded(options.emulator))
        routes = {alias: located(alias, opts, fixed) for alias, opts in per_provider.items()}
        resolved = all(route.identity is not None for route in routes.values())
        discovery: list[tuple[str | None, Counter[str]]] = []
        unknown: list[str | None] = []
        listed: dict[JobRef, tuple[str, str | None]] = {}
        if manifest.queries and resolved:
            from audit.discover.run import discover_all
            from audit.discover.walk import counted, listings

            stop = threading.Event()
            conns = stack.enter_context(open_connections(options, manifest.providers, needed, stop, fixed))
            routes = routes_of(conns)
            if discover:
                manifest, _, found = discover_all(manifest, conns, stop, unmanaged=options.unmanaged)
                listed = listings(found)
                for d in found:
                    discovery.append((d.query.provider, d.calls))
                    lines.append(
                        f"  discovery {d.query.position} ({d.provider}, {d.window}): "
                        f"{len(d.media):,} media, {len(d.jobs):,} jobs"
                    )
            else:
                now = datetime.now(UTC)
                for query in manifest.queries:
                    if query.media_ids:
                        media = len(query.media_ids)
                        calls = Counter({LIST_JOB_INFO: media * len(query.types)})
                        said = f"{media:,} media named"
                    else:
                        totals = counted(query, conns[query.provider], stop, now)
                        media, calls = sum(totals.values()), window_calls(totals, len(query.types))
                        said = f"{media:,} media in the window (SearchMedia's Total)"
                    discovery.append((query.provider, calls))
                    unknown.append(query.provider)
                    lines.append(f"  discovery {query.position}: {said}; --discover lists their jobs")
        state = state_path(options, manifests)
        store = open_existing(state)
        if store is not None:
            stack.enter_context(closing(store))
        plan = build(
            manifest,
            routes,
            store,
            options,
            discovery=discovery,
            unknown=unknown,
            listed=listed,
        )
        last = store.last_jobs(manifest.audit) if store is not None else None
    if as_json:
        echo(json.dumps(_document(plan, manifest, options, window, last), indent=2))
    else:
        _print(plan, manifest, lines, window, last, echo)
    if not resolved:
        err("vod-audit: a provider's credentials cannot be resolved, so a run could not start: exit 1")
        return ExitStatus.ERROR
    return ExitStatus.OK


def _document(
    plan: Plan, manifest: Manifest, options: RunOptions, budget: float | None, last: set[JobRef] | None
) -> dict[str, Any]:
    document = plan.document()
    document["fail_on"] = options.fail_on
    if budget is not None:
        document["budget_s"] = budget
        document["within_budget"] = plan.time_at_limits() <= budget
    added, removed = _changes(manifest, last, bool(plan.unknown))
    document["since_last_run"] = (
        None
        if last is None
        else {
            "added": [list(ref) for ref in added],
            "removed": None if removed is None else [list(r) for r in removed],
        }
    )
    return document


def _print(
    plan: Plan,
    manifest: Manifest,
    lines: list[str],
    budget: float | None,
    last: set[JobRef] | None,
    echo: Echo,
) -> None:
    echo(f"plan for audit {manifest.audit!r} ({len(manifest.sources)} file(s)), no GetJobDetail call made")
    for lane in plan.lanes.values():
        echo(f"  provider {lane.route.label}: credentials {lane.route.credentials}")
    origins = Counter(spec.origin for spec in manifest.jobs)
    jobs = ", ".join(f"{k} {n:,}" for k, n in sorted(origins.items())) or "none"
    echo(
        f"  jobs: {len(manifest.jobs):,} ({jobs})"
        + (f", {len(plan.jobs):,} targeted" if len(plan.jobs) != len(manifest.jobs) else "")
    )
    for lane in plan.lanes.values():
        echo(
            f"  provider {lane.route.label} ({lane.route.endpoint}): {len(lane.jobs):,} jobs, "
            f"{len(lane.reuse):,} final in state, {lane.ask:,} to ask"
            + (" (--refresh)" if plan.refresh else "")
        )
    for line in lines:
        echo(line)
    unknown_outputs = sum(lane.outputs_unknown for lane in plan.lanes.values())
    if unknown_outputs:
        echo(
            f"  output checks: {unknown_outputs:,} jobs with output: are asked tonight; each may add a "
            "GetPlayInfo (and a GetMezzanineInfo) per media its answer names"
        )
    seconds = plan.seconds()
    for account, (calls, rates) in plan.by_account().items():
        said = ", ".join(f"{op} {n:,} at {rates[op]:g}/s" for op, n in calls.items() if n)
        extra = " + a GetJobDetail per job discovery lists" if account in plan.unknown else ""
        echo(
            f"  calls ({account}): {said or 'none'}{extra}: {format_duration(seconds[account])} at the limits"
        )
    longest = plan.time_at_limits()
    verdict = ""
    if budget is not None:
        verdict = f", {'over' if longest > budget else 'within'} the budget of {format_duration(budget)}"
    echo(f"calls: {sum(plan.calls().values()):,}; time at the limits: {format_duration(longest)}{verdict}")
    _waivers(manifest, echo)
    if last is None:
        echo("  since the last run: no complete run of this audit in the state")
        return
    added, removed = _changes(manifest, last, bool(plan.unknown))
    said = "removed: not known without --discover" if removed is None else f"{len(removed):,} removed"
    echo(f"  since the last complete run: {len(added):,} jobs added, {said}")
    for sign, refs in (("+", added), ("-", removed or [])):
        for ref in refs[:SHOWN]:
            echo(f"    {sign} {ref.job_type} {ref.job_id}")
        if len(refs) > SHOWN:
            echo(f"    {sign} and {len(refs) - SHOWN:,} more")


def _waivers(manifest: Manifest, echo: Echo) -> None:
    now = datetime.now(UTC)
    for waiver in sorted(manifest.waivers, key=lambda w: w.expires):
        if waiver.live(now) and waiver.lapses - now <= SOON:
            echo(
                f"  waiver {waiver.job_id} ({waiver.position}) expires {waiver.expires} (owner {waiver.owner or '-'})"
            )


def _changes(
    manifest: Manifest, last: set[JobRef] | None, partial: bool
) -> tuple[list[JobRef], list[JobRef] | None]:
    """Jobs added and removed since the audit's last complete run; `partial`: media sources not
    listed, so the jobs they add are unknown and none can be said removed (None)."""
    if last is None:
        return [], None
    now = {spec.ref for spec in manifest.jobs}
    return sorted(now - last), None if partial else sorted(last - now)
