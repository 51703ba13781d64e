"""The run as pandas frames: one row per job, one per finding, and duration summaries."""

from __future__ import annotations

import math
from typing import Any

from audit.results.parts import ProviderLine
from audit.results.record import DEFAULT_PROVIDER, RunRecord, ordered

RESULT_COLUMNS = [
    "job_type",
    "job_id",
    "outcome",
    "status",
    "duration_s",
    "max_duration_s",
    "template_id",
    "definition",
    "ai_job_type",
    "findings",
    "warnings",
    "waived",
    "change",
    "first_seen",
    "first_finding",
    "request_id",
    "fetched_at",
    "from_state",
    "source",
    "description",
    "provider",
]
# Each column one fact: `outcome` and `change` are the job's, `severity` the rule's (error or
# warning), `counted` whether the finding weighs on the outcome (not a warning, not waived), and the
# waiver's reason, owner and expiry each a column of its own.
FINDING_COLUMNS = [
    "job_type",
    "job_id",
    "outcome",
    "change",
    "severity",
    "counted",
    "kind",
    "field",
    "expected",
    "actual",
    "message",
    "waived",
    "waiver_reason",
    "waiver_owner",
    "waiver_expires",
    "first_seen",
    "provider",
]
DURATION_COLUMNS = [
    "job_type",
    "job_id",
    "status",
    "duration_s",
    "max_duration_s",
    "over_budget",
    "template_id",
    "definition",
    "ai_job_type",
]
SUMMARY_COLUMNS = ["group", "value", "count", "p50", "p90", "p99", "max", "over_budget"]


def results_frame(run: RunRecord) -> Any:
    import pandas as pd

    rows = [
        {
            "job_type": r.job_type,
            "job_id": r.job_id,
            "outcome": r.outcome.value,
            "status": r.status,
            "duration_s": r.duration,
            "max_duration_s": r.max_duration,
            "template_id": r.template_id,
            "definition": r.definition,
            "ai_job_type": r.ai_job_type,
            "findings": len(r.counted),
            "warnings": len(r.warnings),
            "waived": len(r.waived),
            "change": r.change,
            "first_seen": r.first_seen,
            "first_finding": r.counted[0].message if r.counted else None,
            "request_id": r.request_id,
            "fetched_at": r.fetched_at,
            "from_state": r.from_state,
            "source": r.source,
            "description": r.description,
            "provider": r.provider_name,
        }
        for r in ordered(run.results)
    ]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def findings_frame(run: RunRecord) -> Any:
    import pandas as pd

    rows = [
        {
            "job_type": r.job_type,
            "job_id": r.job_id,
            "outcome": r.outcome.value,
            "change": r.change,
            "severity": f.severity,
            "counted": f.counts,
            "kind": f.kind,
            "field": f.field,
            "expected": f.expected,
            "actual": f.actual,
            "message": f.message,
            "waived": f.waived is not None,
            "waiver_reason": f.waived.reason if f.waived else None,
            "waiver_owner": f.waived.owner if f.waived else None,
            "waiver_expires": f.waived.expires if f.waived else None,
            "first_seen": f.first_seen,
            "provider": r.provider_name,
        }
        for r in ordered(run.results)
        for f in r.findings
    ]
    return pd.DataFrame(rows, columns=FINDING_COLUMNS)


def durations_frame(run: RunRecord) -> Any:
    import pandas as pd

    rows = [
        {
            "job_type": r.job_type,
            "job_id": r.job_id,
            "status": r.status,
            "duration_s": r.duration,
            "max_duration_s": r.max_duration,
            "over_budget": r.overdue_or_over_budget,
            "template_id": r.template_id,
            "definition": r.definition,
            "ai_job_type": r.ai_job_type,
        }
        for r in sorted(run.results, key=lambda r: (r.job_type, -(r.duration or 0), r.job_id))
        if r.duration is not None
    ]
    return pd.DataFrame(rows, columns=DURATION_COLUMNS)


def provider_counts(run: RunRecord) -> list[dict[str, Any]]:
    """Per provider: its line of the run record and its jobs by outcome."""
    from collections import Counter

    from audit.common.findings import Outcome

    tally: dict[str, Counter[str]] = {}
    for result in run.results:
        tally.setdefault(result.provider_name, Counter())[result.outcome.value] += 1
    lines = {p.provider: p for p in run.providers}
    for name in tally.keys() - lines.keys():  # merged results whose run kept no provider line
        lines[name] = ProviderLine(name)
    return [
        {"line": lines[name], "counts": {o.value: tally.get(name, Counter())[o.value] for o in Outcome}}
        for name in sorted(lines, key=lambda n: (n != DEFAULT_PROVIDER, n))
    ]


def duration_summary(durations: Any) -> Any:
    """count, p50, p90, p99, max and over-budget count by type, template, definition and AI job type."""
    import pandas as pd

    groups = [
        ("job type", durations, "job_type"),
        ("template", durations[durations.job_type == "transcode"], "template_id"),
        ("definition", durations[durations.job_type == "transcode"], "definition"),
        ("AI job type", durations[durations.job_type == "ai"], "ai_job_type"),
    ]
    parts = []
    for label, frame, column in groups:
        frame = frame.dropna(subset=[column])
        if frame.empty:
            continue
        grouped = frame.groupby(column, sort=True)
        summary = (
            pd.DataFrame(
                {
                    "count": grouped.duration_s.count(),
                    "p50": grouped.duration_s.quantile(0.5),
                    "p90": grouped.duration_s.quantile(0.9),
                    "p99": grouped.duration_s.quantile(0.99),
                    "max": grouped.duration_s.max(),
                    "over_budget": grouped.over_budget.sum().astype(int),
                }
            )
            .reset_index()
            .rename(columns={column: "value"})
        )
        summary.insert(0, "group", label)
        parts.append(summary)
    if not parts:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    return pd.concat(parts, ignore_index=True)[SUMMARY_COLUMNS]


def histogram(values: list[float], bins: int = 20) -> list[tuple[float, float, int]]:
    """(low, high, count) bins over [min(0, lowest), highest]: durations start at zero, unless an
    answer says a job completed before it was created (a warning, and still a bar to show)."""
    shown = [value for value in values if math.isfinite(value)]
    if not shown:
        return []
    low = min(0.0, min(shown))
    top = max(max(shown), low + 1e-3)  # a floor: zero or denormal spans must not make the bins zero wide
    width = (top - low) / bins
    counts = [0] * bins
    for value in shown:
        counts[max(0, min(bins - 1, int((value - low) / width)))] += 1
    return [(low + i * width, low + (i + 1) * width, n) for i, n in enumerate(counts)]
