"""report.html: one self-contained page (inline CSS, JS and SVG; nothing fetched), autoescaped."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from audit.common.atomic import write_atomic
from audit.common.findings import warning_words
from audit.common.jobtypes import NAMES
from audit.common.jsonfile import compact_json
from audit.common.timeutil import format_duration, format_utc
from audit.report.page import (
    NEEDS_ACTION_SHOWN,
    finding_rows,
    job_rows,
    manifest_names,
    option_lines,
    trend,
)
from audit.report.tables import duration_summary, durations_frame, histogram, provider_counts
from audit.results.attention import DISCOVERY_WORDS, action_lines, discovered
from audit.results.record import RunRecord, ordered, waiver_lines

SLOWEST = 20
SCHEMA_EXAMPLES = 3


def embedded_json(value: Any) -> str:
    """JSON safe inside <script>: no `<`, `>` or `&` can close the element or start markup."""
    text = compact_json(value)
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _schema_groups(run: RunRecord) -> list[dict[str, Any]]:
    groups: dict[tuple[str, str], dict[str, Any]] = {}
    for result in ordered(run.results):
        for finding in result.findings:
            if finding.kind != "schema":
                continue
            group = groups.setdefault(
                (finding.severity, finding.field),
                {
                    "pointer": finding.field,
                    "count": 0,
                    "message": finding.message,
                    "severity": finding.severity,
                    "jobs": [],
                },
            )
            group["count"] += 1
            if len(group["jobs"]) < SCHEMA_EXAMPLES:
                group["jobs"].append(f"{result.job_type} {result.job_id}")
    return sorted(groups.values(), key=lambda g: (-g["count"], g["pointer"]))


def _histograms(durations: Any) -> list[dict[str, Any]]:
    charts = []
    for job_type in NAMES:
        values = [float(v) for v in durations[durations.job_type == job_type].duration_s]
        bins = histogram(values)
        if bins:
            peak = max(n for _, _, n in bins) or 1
            charts.append(
                {
                    "job_type": job_type,
                    "count": len(values),
                    "peak": peak,
                    "top": format_duration(bins[-1][1]),
                    "bars": [
                        {
                            "low": format_duration(lo),
                            "high": format_duration(hi),
                            "n": n,
                            "height": round(90 * n / peak, 1),  # room above for its count
                        }
                        for lo, hi, n in bins
                    ],
                }
            )
    return charts


CHANGES_SHOWN = 50  # jobs listed per kind of change; the findings table below holds them all


def _changes(run: RunRecord) -> list[dict[str, Any]]:
    """What changed since the previous run: new first, then resolved, then ongoing (failing since)."""
    sections = []
    for change, title in (("new", "New"), ("resolved", "Resolved"), ("ongoing", "Ongoing")):
        jobs = [r for r in ordered(run.results) if r.change == change]
        entries = []
        for result in jobs[:CHANGES_SHOWN]:
            said = result.counted[0].message if result.counted else "no finding now"
            entries.append(
                {"job": f"{result.job_type} {result.job_id}", "said": said, "since": result.first_seen}
            )
        sections.append({"change": change, "title": title, "count": len(jobs), "entries": entries})
    return sections


def parts(run: RunRecord, rendered_at: datetime | None = None) -> Iterator[str]:
    """The page as it is written, in the template's pieces: at 100,000 jobs it is never held whole,
    and each table's rows are let go once they are JSON."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

    environment = Environment(
        loader=FileSystemLoader(Path(__file__).parent / "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.filters["duration"] = lambda seconds: "" if seconds is None else format_duration(seconds)
    durations = durations_frame(run)
    summary = duration_summary(durations)
    results = ordered(run.results)  # one order: finding rows point at job rows by index
    jobs, evidence = job_rows(results)
    jobs_json = embedded_json(jobs)
    del jobs
    evidence_json = embedded_json(evidence)
    del evidence
    action, needing = action_lines(run, NEEDS_ACTION_SHOWN)
    timed = [(r.duration, r) for r in run.results if r.duration is not None]
    slowest = [r for _, r in sorted(timed, key=lambda pair: (-pair[0], pair[1].job_id))[:SLOWEST]]
    return environment.get_template("report.html.j2").generate(
        run=run,
        counts=run.counts,
        jobs_json=jobs_json,
        evidence_json=evidence_json,
        findings_json=embedded_json(finding_rows(results)),
        finding_count=sum(len(r.counted) for r in run.results),
        jobs_with_findings=sum(1 for r in run.results if r.counted),
        warnings=run.warnings,
        warned=warning_words(f.kind for r in run.results for f in r.warnings),
        waived=run.waived,
        changes=_changes(run),
        needs_action=action,
        needing=needing,
        trend=trend(run),
        manifest_names=manifest_names(run),
        option_lines=option_lines(run),
        waiver_notes=waiver_lines(run),
        job_types=NAMES,
        providers=provider_counts(run),
        discovered=discovered(run),
        discovery_words=DISCOVERY_WORDS,
        summary=summary.to_dict("records"),
        charts=_histograms(durations),
        slowest=slowest,
        schema_groups=_schema_groups(run),
        notes=sum(len(r.notes) for r in run.results),
        rendered_at=format_utc(rendered_at or datetime.now(UTC)),
    )


class HtmlReport:
    name = "html"

    def write(self, run: RunRecord, out: Path) -> list[Path]:
        return [write_atomic(out / "report.html", parts(run))]
