"""The metrics of an event route (the receiver, the queue consumer): what it stored, found, refused."""

from __future__ import annotations

from collections.abc import Mapping

from prometheus_client import CollectorRegistry, Gauge, generate_latest
from prometheus_client import Counter as CountMetric

from audit.metrics.model import PREFIX

# stored: appended durably; duplicate: found in the day's file already; refused: an HTTP delivery
# answered 4xx; rejected: a queue message moved aside to rejected/; failed: could not be stored.
OUTCOMES = ("stored", "duplicate", "refused", "rejected", "failed")


def exposition(route: str, counts: Mapping[str, int], started: float, last_stored: float | None) -> bytes:
    """The route's metrics in the text exposition format (a scrape's answer, a textfile's content)."""
    from prometheus_client import disable_created_metrics

    disable_created_metrics()  # type: ignore[no-untyped-call]  # counts since start: no `_created`
    made = CollectorRegistry()
    events = CountMetric(
        f"{PREFIX}events",
        "Event deliveries or queue messages since the process started, by outcome.",
        ("route", "outcome"),
        registry=made,
    )
    for outcome in OUTCOMES:
        events.labels(route, outcome).inc(counts.get(outcome, 0))
    Gauge(
        f"{PREFIX}events_started_timestamp_seconds",
        "When the route's process started (Unix time): the counts are since then.",
        ("route",),
        registry=made,
    ).labels(route).set(started)
    if last_stored is not None:
        Gauge(
            f"{PREFIX}events_last_stored_timestamp_seconds",
            "When an event was last stored (Unix time): alert when it is old.",
            ("route",),
            registry=made,
        ).labels(route).set(last_stored)
    return generate_latest(made)
