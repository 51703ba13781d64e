"""report.html's data: a row per job and per finding, the jobs needing action, the waiver register, the trend."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from audit.common.findings import Finding
from audit.common.timeutil import format_duration
from audit.results.attention import what_is_wrong
from audit.results.record import JobResult, RunRecord

NEEDS_ACTION_SHOWN = 50  # the jobs table below holds the rest, filterable by change
# Past this many jobs the page embeds the answers of jobs with findings, warnings or errors only:
# 100,000 answers would make a 60 MB page; every answer stays in results.json.
ANSWERS_EMBEDDED = 20_000


def job_rows(results: Sequence[JobResult]) -> tuple[list[list[Any]], list[list[Any]]]:
    """One row per job of `results` (ordered: worst first) and each job's evidence, index-aligned:
    [expectation, RequestId, fetched at, from (API/state), manifest position, attempts, answer]."""
    every_answer = len(results) <= ANSWERS_EMBEDDED
    rows, evidence = [], []
    for result in results:
        rows.append(
            [
                result.outcome.value,
                result.change or "",
                result.job_type,
                result.job_id,
                result.status or "",
                "" if result.duration is None else format_duration(result.duration),
                len(result.counted),
                what_is_wrong(result),
                result.description or "",
                result.provider_name,
            ]
        )
        answer = result.response_text or result.body_json
        if not every_answer and not result.findings:
            answer = None if answer is None else ""  # "" = not embedded here; None = there was none
        evidence.append(
            [
                result.expectation or "",
                result.request_id or "",
                result.fetched_at or "",
                "state" if result.from_state else ("API" if result.fetched_at else ""),
                result.source or "",
                result.attempts,
                answer,
            ]
        )
    return rows, evidence


def finding_rows(results: Sequence[JobResult]) -> list[list[Any]]:
    """One row per finding, pointing at its job's row by index in `results` (the list job_rows was
    given): [job, kind, field, expected, actual, message, severity (error, warning or waived), first
    seen, the waiver that covers it]."""
    rows = []
    for index, result in enumerate(results):
        for finding in result.findings:
            rows.append(
                [
                    index,
                    finding.kind,
                    finding.field,
                    finding.expected,
                    finding.actual,
                    finding.message,
                    "waived" if finding.waived else finding.severity,
                    finding.first_seen or "",
                    _waiver_text(finding),
                ]
            )
    return rows


def _waiver_text(finding: Finding) -> str:
    if finding.waived is None:
        return ""
    owner = f", owner {finding.waived.owner}" if finding.waived.owner else ""
    return f"{finding.waived.reason}{owner}, until {finding.waived.expires}"


@dataclass(frozen=True)
class TrendBar:
    x: float
    label: str  # MM-DD
    time: str  # HH:MM
    total: int
    segments: tuple[tuple[str, float, float, int], ...]  # (outcome, y, height, count), bottom up


@dataclass(frozen=True)
class Trend:
    """The last runs' outcomes as stacked bars with a y axis, dates below and counts above."""

    width: int
    height: int
    bar: int  # width of a bar
    plot_top: int
    plot_bottom: int
    left: int
    peak: int
    ticks: tuple[tuple[float, int], ...]  # (y, value)
    bars: tuple[TrendBar, ...]
    outcomes: tuple[str, ...]  # those that occur, for the legend


TREND_BAR, TREND_GAP, TREND_LEFT, TREND_TOP, TREND_PLOT = 28, 12, 40, 18, 120


def trend(run: RunRecord) -> Trend | None:
    if not run.trend:
        return None
    totals = [sum(point.counts.values()) for point in run.trend]
    peak = max(totals) or 1
    bottom = TREND_TOP + TREND_PLOT
    bars = []
    seen: set[str] = set()
    for index, (point, total) in enumerate(zip(run.trend, totals, strict=True)):
        top = float(bottom)
        segments = []
        for outcome, count in point.counts.items():
            size = round(TREND_PLOT * count / peak, 2)
            if size:
                top -= size
                segments.append((outcome, round(top, 2), size, count))
                seen.add(outcome)
        x = TREND_LEFT + TREND_GAP + index * (TREND_BAR + TREND_GAP)
        bars.append(TrendBar(x, point.started_at[5:10], point.started_at[11:16], total, tuple(segments)))
    ticks = tuple((bottom - TREND_PLOT * value / peak, value) for value in sorted({0, peak // 2, peak}))
    width = TREND_LEFT + TREND_GAP + len(bars) * (TREND_BAR + TREND_GAP)
    return Trend(
        width,
        bottom + 34,
        TREND_BAR,
        TREND_TOP,
        bottom,
        TREND_LEFT,
        peak,
        ticks,
        tuple(bars),
        tuple(o for o in run.counts if o in seen),
    )


def manifest_names(run: RunRecord) -> str:
    """The audit's name for headers and titles: its name (the manifest's `name:` or file names), else
    (results of older versions) its manifest files, by name."""
    if run.audit:
        return run.audit
    names = list(dict.fromkeys(path.replace("\\", "/").rsplit("/", 1)[-1] for path, _ in run.manifests))
    if len(names) > 3:
        return ", ".join(names[:3]) + f" and {len(names) - 3} more"
    return ", ".join(names) or "no manifest"


def option_lines(run: RunRecord) -> list[tuple[str, str]]:
    """The run's options as `name=value` lines (values in JSON); a merged run's, one line per run."""
    import json

    def line(options: Mapping[str, Any]) -> str:
        return " ".join(f"{name}={json.dumps(value, ensure_ascii=False)}" for name, value in options.items())

    runs = run.options.get("runs")
    if isinstance(runs, Mapping):
        return [(f"options of {run_id}", line(options)) for run_id, options in runs.items()]
    return [("options", line(run.options))]
