"""A run's calls, one lane per provider, all lanes side by side.

Each lane has its connection and calls in flight; an account's limiter is shared by its lanes,
different accounts run concurrently."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any, TypeVar

from audit.calls.connection import Connection
from audit.calls.fetch import CallStats, Fetcher, NothingCanSucceed
from audit.common.jobtypes import JobRef
from audit.results.parts import ProviderLine, mask
from audit.vod.records import Fetched

T = TypeVar("T")


class Lane:
    """One provider's part of a run: whose stored answers it may reuse, and what it fetched."""

    def __init__(self, conn: Connection, account: str | None) -> None:
        self.conn = conn
        self.identity = conn.keys.source.identity
        # The account the plan reuses stored answers of (None: unknown, any answer of the service).
        self.account = account
        # UserIds of every answer it used, reused or asked (workers add; add is atomic)
        self.owners: set[str] = set()
        self.fetcher: Fetcher | None = None
        self.extra: list[tuple[str, Fetcher]] = []  # its calls of other operations, by operation
        self.jobs = 0

    @property
    def stats(self) -> CallStats:
        fetchers = [f for f in (self.fetcher, *(f for _, f in self.extra)) if f is not None]
        counted = [f.stats for f in fetchers]
        return CallStats(
            sum(s.calls for s in counted), sum(s.retries for s in counted), sum(s.throttles for s in counted)
        )

    def stream(
        self,
        refs: Iterable[JobRef],
        finish: Callable[[Fetched], T],
        calls: int,
        stop: threading.Event,
    ) -> Iterator[T]:
        client = self.conn.client()
        self.fetcher = self.conn.fetcher(client)
        try:
            yield from self.fetcher.fetch_each(refs, finish, concurrency=calls, stop=stop)
        except NothingCanSucceed as failed:
            if self.conn.provider is None:
                raise
            raise type(failed)(f"provider {self.conn.provider}: {failed}") from None
        finally:
            client.close()

    def other_calls(self) -> dict[str, int]:
        """Its calls of other operations than GetJobDetail, by operation."""
        counted: dict[str, int] = {}
        for operation, fetcher in self.extra:
            counted[operation] = counted.get(operation, 0) + fetcher.stats.calls
        return counted

    def learnt(self) -> tuple[str, str | None] | None:
        """What the state should remember of its credentials' account, when they do not state it:
        (identity, the one UserId every answer it used carried), or (identity, None) to forget it
        when its answers carried several (submitted by several users: the account is not known).
        Judged on every answer used, reused ones too: learnt from the few asked on one night, it
        would refuse the rest the next (issue #36)."""
        if self.conn.keys.current().account or not self.owners:
            return None
        return self.identity, next(iter(self.owners)) if len(self.owners) == 1 else None

    def record(self) -> ProviderLine:
        """The provider's line of the run record: where, as whom, what it cost."""
        keys, stats = self.conn.keys, self.stats
        return ProviderLine(
            provider=self.conn.label,
            endpoint=self.conn.endpoint.url,
            access_key_id=mask(keys.access_key_ids[0]),
            credentials=keys.source.describe,
            access_key_ids=tuple(mask(key) for key in keys.access_key_ids),
            renewals=keys.renewals,
            qps=self.conn.qps,
            jobs=self.jobs,
            calls=stats.calls,
            retries=stats.retries,
            throttles=stats.throttles,
            account=self.account or (next(iter(self.owners)) if len(self.owners) == 1 else None),
        )


def calls_per_lane(
    lanes: Mapping[str | None, Lane], counts: Mapping[str | None, int]
) -> dict[str | None, int]:
    """Each account's calls in flight shared among its lanes by how many jobs each has to fetch."""
    by_account: dict[str, list[str | None]] = {}
    for alias, lane in lanes.items():
        if counts.get(alias):
            by_account.setdefault(lane.conn.account, []).append(alias)
    shares: dict[str | None, int] = {}
    for members in by_account.values():
        total = sum(counts[a] for a in members)
        budget = lanes[members[0]].conn.concurrency
        for alias in members:
            shares[alias] = max(1, round(budget * counts[alias] / total))
    return shares


def side_by_side(streams: list[Iterator[T]], stop: threading.Event | None = None) -> Iterator[T]:
    """The items of every stream as they come, each stream drained by a thread of its own; the first
    exception of any stream sets `stop` (the other lanes stop scheduling: one provider's refused
    credentials end the run at once, not after hours of the others) and is raised once all have ended."""
    if len(streams) == 1:
        yield from streams[0]
        return
    items: queue.SimpleQueue[tuple[int, Any]] = queue.SimpleQueue()
    halt = threading.Event()

    def drain(stream: Iterator[T]) -> None:
        try:
            for item in stream:
                items.put((0, item))
                if halt.is_set():
                    break
        except BaseException as exc:  # handed to the consumer
            items.put((1, exc))
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()
            items.put((2, None))

    threads = [threading.Thread(target=drain, args=(s,), name=f"lane-{n}") for n, s in enumerate(streams)]
    for thread in threads:
        thread.start()
    failure: BaseException | None = None
    try:
        running = len(threads)
        while running:
            kind, value = items.get()
            if kind == 0:
                yield value
            elif kind == 1:
                failure = failure or value
                if stop is not None:
                    stop.set()
            else:
                running -= 1
    finally:
        halt.set()
        for thread in threads:
            thread.join()
    if failure is not None:
        raise failure
