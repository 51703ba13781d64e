"""Several runs' results as one record (`vod-audit report merge`): each result keeps its provider."""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from audit import __version__
from audit.common.errors import UserError
from audit.common.jobtypes import JobRef
from audit.results.parts import ProviderLine
from audit.results.record import DEFAULT_PROVIDER, RunRecord


def _default_name(run: RunRecord) -> str:
    """The name a run's default provider takes among others: `default@HOST` of its endpoint."""
    return f"{DEFAULT_PROVIDER}@{urlsplit(run.endpoint).netloc or run.endpoint}"


def merge(runs: Sequence[RunRecord], sources: Sequence[str]) -> RunRecord:
    """One record of every result of `runs` (read from `sources`); a job in two of them is an error,
    since keeping either would drop evidence silently."""
    if len(runs) == 1:
        return runs[0]
    gates = {run.fail_on for run in runs}
    if len(gates) > 1:
        # One gate cannot judge both: `new` would pass an `any` run's ongoing findings, `any` would
        # fail a `new` run on what it was told to let through. Merged, neither verdict may change.
        said = ", ".join(
            f"{source}: --fail-on {run.fail_on}" for run, source in zip(runs, sources, strict=True)
        )
        raise UserError(f"these runs were gated differently ({said}); merge runs of one gate")
    seen: dict[JobRef, str] = {}
    results = []
    providers: list[ProviderLine] = []
    defaults = sum(1 for run in runs if any(r.provider is None for r in run.results)) > 1
    for run, source in zip(runs, sources, strict=True):
        rename = _default_name(run) if defaults else None
        for result in run.results:
            key = result.ref
            if key in seen:
                raise UserError(
                    f"{source}: {result.job_type} job {result.job_id} is also in {seen[key]}; "
                    "merge results of runs over different jobs"
                )
            seen[key] = source
            results.append(replace(result, provider=rename) if result.provider is None and rename else result)
        for line in run.providers:
            named = rename if line.provider == DEFAULT_PROVIDER and rename else line.provider
            providers.append(replace(line, provider=named, run_id=run.run_id))
    digest = hashlib.sha256("\n".join(run.manifest_digest for run in runs).encode()).hexdigest()
    changes: Counter[str] = Counter()
    listed: Counter[str] = Counter()  # planned jobs by the kind of list that named them
    for run in runs:
        changes.update(run.changes)
        listed.update(run.sources)
    first = min(runs, key=lambda run: run.started_at)
    keys = {run.access_key_id for run in runs}
    return RunRecord(
        run_id=f"merged-{digest[:12]}",
        tool_version=__version__,
        started_at=first.started_at,
        finished_at=max(run.finished_at for run in runs),
        endpoint=", ".join(dict.fromkeys(run.endpoint for run in runs)),
        emulator=any(run.emulator for run in runs),
        manifests=tuple(dict.fromkeys(m for run in runs for m in run.manifests)),
        manifest_digest=digest,
        planned=sum(run.planned for run in runs),
        results=tuple(results),
        calls=sum(run.calls for run in runs),
        retries=sum(run.retries for run in runs),
        throttles=sum(run.throttles for run in runs),
        incomplete=any(run.incomplete for run in runs),
        access_key_id=keys.pop() if len(keys) == 1 else None,
        # Each run's own options, under its id: the first run's alone would misstate the others.
        options={
            "merged_from": [run.run_id for run in runs],
            "runs": {run.run_id: dict(run.options) for run in runs},
        },
        fail_on=gates.pop(),
        state_error="; ".join(run.state_error for run in runs if run.state_error) or None,
        waivers=tuple(w for run in runs for w in run.waivers),
        changes=dict(changes),
        stopped_by=next((run.stopped_by for run in runs if run.stopped_by), None),
        providers=tuple(providers),
        audit="+".join(dict.fromkeys(run.audit for run in runs if run.audit)),
        sources=dict(listed),
        discovery=tuple(found for run in runs for found in run.discovery),
        allow_empty=all(run.allow_empty for run in runs),
        empty_because="; ".join(run.empty_because for run in runs if run.empty_because),
    )
