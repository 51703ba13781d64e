"""The metrics of one run, built with the official prometheus-client: names and labels in one place.

Names follow Prometheus's naming practice (prefix, unit in the name, `_total` for counts); labels are
the audit and, where a run has several providers, the provider; never a job id (cardinality).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from prometheus_client import CollectorRegistry, Gauge
from prometheus_client import Counter as CountMetric

from audit.common.findings import Outcome
from audit.results.record import RunRecord

PREFIX = "vod_audit_"
LAST_SUCCESS = f"{PREFIX}last_success_timestamp_seconds"
OPERATION = "GetJobDetail"  # the calls a run record counts by itself; discovery's are by operation


@dataclass(frozen=True)
class Ended:
    """How a run ended, for its metrics: its record when it wrote its set, else none."""

    audit: str
    finished: float  # Unix seconds
    duration: float  # seconds
    exit_code: int
    record: RunRecord | None = None  # None: the run failed before its set was written


def registry(ended: Ended, last_success: float | None = None) -> CollectorRegistry:
    """The run's metrics. `last_success`: the last success's time to keep, when this run is no
    success (a file rewritten after a failed run must not lose it)."""
    from prometheus_client import disable_created_metrics

    disable_created_metrics()  # type: ignore[no-untyped-call]  # a count per run: no `_created` series
    made = CollectorRegistry()
    audit = ("audit",)

    def gauge(name: str, doc: str, value: float) -> None:
        Gauge(f"{PREFIX}{name}", doc, audit, registry=made).labels(ended.audit).set(value)

    gauge(
        "last_run_timestamp_seconds",
        "When the last run ended (Unix time), whatever became of it.",
        ended.finished,
    )
    gauge("run_duration_seconds", "How long the last run took.", ended.duration)
    gauge(
        "exit_code",
        "The last run's exit code (0 passed, 1 tool error, 2 findings, 3 errors or cut short).",
        ended.exit_code,
    )
    record = ended.record
    success = ended.finished if record is not None else last_success
    if success is not None:
        gauge(
            "last_success_timestamp_seconds",
            "When a run last completed and wrote its set, whatever its findings.",
            success,
        )
    if record is None:
        gauge("gate_passed", "1 when the last run's gate passed, else 0.", 0)
        return made
    gauge("gate_passed", "1 when the last run's gate passed, else 0.", 1 if record.exit_code == 0 else 0)
    several = len(record.providers) > 1
    by = ("audit", "outcome", "provider") if several else ("audit", "outcome")
    jobs = Gauge(f"{PREFIX}jobs", "Jobs of the last run by outcome.", by, registry=made)
    counted: Counter[tuple[str, ...]] = Counter()
    for result in record.results:
        counted[
            (result.outcome.value, result.provider or "default") if several else (result.outcome.value,)
        ] += 1
    providers = {r.provider or "default" for r in record.results} or {"default"}
    for outcome in Outcome:
        for provider in sorted(providers) if several else [""]:
            key = (outcome.value, provider) if several else (outcome.value,)
            jobs.labels(ended.audit, *key).set(counted[key])
    findings = Gauge(
        f"{PREFIX}findings",
        "Jobs with findings of the last run by change since the run before.",
        ("audit", "change"),
        registry=made,
    )
    for change in ("new", "ongoing", "resolved"):
        findings.labels(ended.audit, change).set(record.changes.get(change, 0))
    calls = CountMetric(
        f"{PREFIX}calls", "Calls the last run made by operation.", ("audit", "operation"), registry=made
    )
    throttles = CountMetric(
        f"{PREFIX}throttles",
        "Calls of the last run the service throttled, by operation.",
        ("audit", "operation"),
        registry=made,
    )
    made_calls: Counter[str] = Counter({OPERATION: record.calls})
    for found in record.discovery:
        made_calls.update(found.calls)
    for operation, count in sorted(made_calls.items()):
        calls.labels(ended.audit, operation).inc(count)
    # Discovery's throttled calls are retried within its calls; the record counts GetJobDetail's.
    throttles.labels(ended.audit, OPERATION).inc(record.throttles)
    retries = CountMetric(f"{PREFIX}retries", "Retries the last run made.", audit, registry=made)
    retries.labels(ended.audit).inc(record.retries)
    return made
