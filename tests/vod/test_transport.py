"""The bounded adapter's shortcuts (one pool per origin looked up once, the path cut from the URL) and its answers."""

from __future__ import annotations

from audit.vod.transport import BoundedAdapter, send
from tests.loopback import serve


def test_one_adapter_reaches_each_origin_in_turn_with_the_path_and_query_asked():
    # The pool manager keeps one origin's pool and closes the one before: the adapter's own lookup
    # must notice and ask again, never send through a closed pool or to the other origin.
    with (
        serve(lambda r: (200, b"a")) as (first, seen_first),
        serve(lambda r: (200, b"b")) as (second, seen_second),
    ):
        adapter = BoundedAdapter(pool_connections=1, pool_maxsize=1, max_retries=0)
        replies = [
            send("POST", f"{url}/p?q={n}", data=b"x", adapter=adapter).body
            for n, url in enumerate((first, second, first, first, second))
        ]
        adapter.close()
    assert replies == [b"a", b"b", b"a", b"a", b"b"]
    assert [(r.path, r.query) for r in seen_first] == [
        ("/p", {"q": "0"}),
        ("/p", {"q": "2"}),
        ("/p", {"q": "3"}),
    ]
    assert [(r.path, r.query) for r in seen_second] == [("/p", {"q": "1"}), ("/p", {"q": "4"})]


def test_a_url_without_a_path_is_sent_for_the_root():
    with serve(lambda r: (200, b"{}")) as (url, seen):
        reply = send("GET", f"{url}?x=1", adapter=BoundedAdapter(max_retries=0))
    assert reply.status == 200 and [(r.path, r.query) for r in seen] == [("/", {"x": "1"})]


def test_the_answer_headers_are_read_case_insensitively():
    # A receiver's `retry-after` must count as much as a `Retry-After` (HTTP names are case-insensitive).
    with serve(lambda r: (200, b"{}")) as (url, _):
        reply = send("GET", url, adapter=BoundedAdapter(max_retries=0))
    assert reply.headers["content-type"] == reply.headers["Content-Type"] == "application/json;charset=utf-8"
