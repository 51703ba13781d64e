"""Metrics where operations read them: a file for node_exporter's textfile collector, a Pushgateway."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from prometheus_client import CollectorRegistry, generate_latest

from audit.common.atomic import write_atomic
from audit.metrics.model import LAST_SUCCESS, Ended, registry

TIMEOUT = 10.0  # seconds a push may take: the gateway is watched, never waited on


def write_file(path: Path, ended: Ended) -> None:
    """The metrics in the text exposition format, replacing `path` whole (temp file + rename). A run
    that is no success keeps the last success's time the file had."""
    made = registry(ended, None if ended.record is not None else _last_success(path))
    write_atomic(path, generate_latest(made).decode("utf-8"))


def push(gateway: str, job: str, ended: Ended) -> str | None:
    """The metrics pushed with push-add semantics (POST: a failed run, which has no last-success
    value, leaves the one the gateway holds), grouped by job and audit only; why it failed, or None."""
    from prometheus_client import pushadd_to_gateway

    made: CollectorRegistry = registry(ended)
    try:
        pushadd_to_gateway(
            gateway, job=job, registry=made, grouping_key={"audit": ended.audit}, timeout=TIMEOUT
        )
    except Exception as exc:  # any failure is one warning line: the run's outcome stands
        return f"{type(exc).__name__}"
    return None


def publish(file: str | None, gateway: str | None, job: str, ended: Ended) -> list[str]:
    """The metrics where the run was told to put them; a sentence per place they could not reach
    (never the gateway's URL, which may hold a password)."""
    said = []
    if file:
        try:
            write_file(Path(file), ended)
        except OSError as exc:
            said.append(f"the metrics file {file} could not be written: {exc.strerror or exc}")
    if gateway:
        failed = push(gateway, job, ended)
        if failed is not None:
            host = urlsplit(gateway).hostname or "the Pushgateway"
            said.append(f"the metrics could not be pushed to {host} ({failed}); the run's outcome stands")
    return said


def _last_success(path: Path) -> float | None:
    from prometheus_client.parser import text_string_to_metric_families

    try:
        text = path.read_text(encoding="utf-8")
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                if sample.name == LAST_SUCCESS:
                    return float(sample.value)
    except (OSError, ValueError):
        return None
    return None
