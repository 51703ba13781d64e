"""The discovery calls of one media source: SearchMedia scrolled to the end, then ListJobInfo per media and type."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

from audit.calls.connection import Connection
from audit.common.errors import UserError
from audit.common.jobtypes import JobRef
from audit.common.timeutil import format_utc
from audit.discover.answers import Listed, Malformed, jobs_of, page_of
from audit.manifest.model import MediaQuery
from audit.vod.client import VodClient
from audit.vod.protocol import LIST_JOB_INFO, PAGE_SIZE, SCROLLED_RESULTS, SEARCH_MEDIA
from audit.vod.records import Answer, CallResult, Fetched

T = TypeVar("T")


class Incomplete(UserError):
    """A media source whose window could not be covered completely: nothing is audited on a partial list."""


@dataclass
class Discovery:
    """What one media source found: its media, their jobs, the calls per operation, and notes."""

    query: MediaQuery
    provider: str
    window: str
    media: list[str] = field(default_factory=list)
    jobs: dict[JobRef, Listed] = field(default_factory=dict)
    calls: Counter[str] = field(default_factory=Counter)
    notes: list[str] = field(default_factory=list)


def quoted(value: str) -> str:
    """A value of the search protocol, in single quotes (a quote inside is refused by the manifest)."""
    return f"'{value}'"


def match_of(query: MediaQuery, until: datetime) -> str:
    """The search protocol's Match for the query: a closed CreationTime range, then its filters
    ("Protocol for media asset search": range `F = (a,b)`, multi-value `F in (a,b)`, joined by and)."""
    since = format_utc(query.since) if query.since is not None else ""
    clauses = [f"CreationTime = ({quoted(since)},{quoted(format_utc(until))})"]
    if query.status:
        clauses.append(f"Status in ({','.join(quoted(s) for s in query.status)})")
    if query.category is not None:
        clauses.append(f"CateId = {query.category}")
    if query.storage_location:
        clauses.append(f"StorageLocation = {quoted(query.storage_location)}")
    if query.tags:
        clauses.append(f"Tags in ({','.join(quoted(t) for t in query.tags)})")
    return " and ".join(clauses)


def window_of(query: MediaQuery, until: datetime) -> str:
    """How outputs name what was asked: a creation-time window, or the media named."""
    if query.media_ids:
        return f"{len(query.media_ids)} media ids"
    since = format_utc(query.since) if query.since is not None else "the beginning"
    return f"{since} .. {format_utc(until)}"


def discover(query: MediaQuery, conn: Connection, stop: threading.Event, now: datetime) -> Discovery:
    """Every media of the query and every job of the asked types the service lists for them;
    Incomplete when a call keeps failing, the answers cannot be read, or the search reaches further
    than a traversal can go."""
    until = query.until or now  # fixed at the start: media created meanwhile do not shift the pages
    found = Discovery(query, conn.label, window_of(query, until))
    client = conn.client()
    try:
        found.media = list(query.media_ids) or _search(
            query, conn, client, match_of(query, until), stop, found
        )
        _list(query, conn, client, stop, found)
    finally:
        client.close()
    return found


def listings(found: list[Discovery]) -> dict[JobRef, tuple[str, str | None]]:
    """Every job discovery listed: its media and listed Status (what the plan counts output calls by)."""
    return {ref: (job.media_id, job.status) for d in found for ref, job in d.jobs.items()}


def counted(query: MediaQuery, conn: Connection, stop: threading.Event, now: datetime) -> dict[str, int]:
    """How many media of each SearchType the query's window holds: SearchMedia's Total, one call of
    one result per type (what `plan` states a window's discovery will cost by)."""
    match = match_of(query, query.until or now)
    client = conn.client()
    try:
        totals = {}
        for kind in query.media_types:
            params = {"SearchType": kind, "Match": match, "PageNo": "1", "PageSize": "1"}
            fetched = conn.fetcher(client, SEARCH_MEDIA, _asking(client, params)).fetch_one(
                JobRef(kind, "1"), stop
            )
            totals[kind] = _read(query, fetched, f"SearchMedia ({kind})", page_of)[0].total
        return totals
    finally:
        client.close()


def _asking(client: VodClient, params: dict[str, str]) -> Callable[[JobRef], CallResult]:
    return lambda _: client.call(SEARCH_MEDIA, params)


def _fail(query: MediaQuery, what: str) -> Incomplete:
    return Incomplete(
        f"{query.position}: discovery could not cover its window: {what}; nothing was audited "
        "(a partial list is never called complete)"
    )


def _search(
    query: MediaQuery,
    conn: Connection,
    client: VodClient,
    match: str,
    stop: threading.Event,
    found: Discovery,
) -> list[str]:
    media: dict[str, None] = {}
    for kind in query.media_types:
        media.update(dict.fromkeys(_scroll(query, conn, client, kind, match, stop, found)))
    return list(media)


def _scroll(
    query: MediaQuery,
    conn: Connection,
    client: VodClient,
    kind: str,
    match: str,
    stop: threading.Event,
    found: Discovery,
) -> list[str]:
    """Every media of one SearchType: the first page, then each next one with the ScrollToken of the
    last (the traversal that reaches past the 5,000 results paging reaches: SearchMedia, Method 2)."""
    params = {"SearchType": kind, "Match": match, "SortBy": "CreationTime:Asc", "PageSize": str(PAGE_SIZE)}
    page_no, total = 1, 0
    media: dict[str, None] = {}  # distinct media, in the order listed: Total counts media, not items
    tokens: set[str] = set()
    asked = found.calls[SEARCH_MEDIA]
    fetcher = conn.fetcher(client, SEARCH_MEDIA, _asking(client, params))  # sees each page's PageNo
    while True:
        params["PageNo"] = str(page_no)
        fetched = fetcher.fetch_one(JobRef(kind, str(page_no)), stop)
        found.calls[SEARCH_MEDIA] = asked + fetcher.stats.calls
        if stop.is_set():
            raise _fail(query, "the run was told to stop")
        what = f"SearchMedia ({kind}) page {page_no}"
        page, notes = _read(query, fetched, what, page_of)
        found.notes += [f"{what}: {n}" for n in notes]
        total = page.total
        if total > SCROLLED_RESULTS:
            raise _fail(
                query,
                f"{total:,} {kind} media match, more than the {SCROLLED_RESULTS:,} a traversal reaches "
                "(SearchMedia reference); narrow the window or add filters",
            )
        before = len(media)
        media.update(dict.fromkeys(page.media))
        if len(media) >= total or not page.media:
            break
        # A page that lists no media not seen before, or a token given before, would go round in
        # circles or end early while calling the list complete: the window is not covered.
        if len(media) == before:
            raise _fail(query, f"{what} listed no media not listed before ({len(media)} of {total} seen)")
        if page.token is None:
            raise _fail(query, f"{what} gave no ScrollToken to go on")
        if page.token in tokens:
            raise _fail(query, f"{what} gave a ScrollToken it gave before ({len(media)} of {total} seen)")
        tokens.add(page.token)
        params["ScrollToken"] = page.token
        page_no += 1
    if len(media) < total:
        raise _fail(query, f"SearchMedia ({kind}) said {total} media match but listed {len(media)}")
    return list(media)


def _read(query: MediaQuery, fetched: Fetched, what: str, read: Callable[[dict[str, Any]], T]) -> T:
    """What `read` makes of the answer; Incomplete when there is none, or it cannot be read."""
    result = fetched.result
    if not isinstance(result, Answer):
        raise _fail(query, f"{what}: {result.describe()} after {fetched.attempts} attempt(s)")
    if not isinstance(result.body, dict):
        raise _fail(query, f"{what}: the answer is not a JSON object")
    try:
        return read(result.body)
    except Malformed as exc:
        raise _fail(query, f"{what}: {exc}") from None


def _list(
    query: MediaQuery, conn: Connection, client: VodClient, stop: threading.Event, found: Discovery
) -> None:
    def ask(asked: JobRef) -> CallResult:
        # One call per media and type: the reference lists JobType with its three values and answers
        # one JobType per call; it does not say the parameter may be left out, so it never is.
        return client.call(LIST_JOB_INFO, {"MediaId": asked.job_id, "JobType": asked.job_type})

    fetcher = conn.fetcher(client, LIST_JOB_INFO, ask)
    asked = (JobRef(kind, media_id) for media_id in found.media for kind in query.types)
    for fetched in fetcher.fetch_many(asked, concurrency=conn.concurrency, stop=stop):
        found.calls[LIST_JOB_INFO] = fetcher.stats.calls
        what = f"ListJobInfo {fetched.job.job_type} {fetched.job.job_id}"
        listed, notes = _read(query, fetched, what, partial(jobs_of, asked=fetched.job))
        found.notes += notes
        for job in listed:
            found.jobs.setdefault(job.ref, job)
    if stop.is_set():
        raise _fail(query, "the run was told to stop")
