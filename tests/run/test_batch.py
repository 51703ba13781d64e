"""Answers reach the state in batches: by count, by age, and all of them when the run ends."""

from __future__ import annotations

import sqlite3
import threading

import audit.state.batch as batch
from audit.state.batch import Batch
from audit.state.sqlite import State
from audit.state.store import StoredAnswer


def _answer(n: int) -> StoredAnswer:
    return StoredAnswer("ai", f"j{n}", "{}", "t", True, "v", "[]", "r")


def test_a_full_batch_is_one_transaction(tmp_path):
    state = State(tmp_path / "s.db")
    statements: list[str] = []
    state._db.set_trace_callback(statements.append)
    for n in range(batch.ROWS * 2 + 5):
        state.store("e", _answer(n))
    assert statements.count("COMMIT") == 2  # two full batches; the last five wait
    committed = sqlite3.connect(tmp_path / "s.db").execute("SELECT COUNT(*) FROM responses").fetchone()
    assert committed == (batch.ROWS * 2,)
    state.end_run("r", "t", "complete", {}, 0, 0, 0)  # a run that ends commits what waits
    assert statements.count("COMMIT") == 3
    assert len(state.lookup("e", [("ai", f"j{n}") for n in range(batch.ROWS * 2 + 5)])) == batch.ROWS * 2 + 5
    state.close()


def test_what_waits_is_committed_by_its_age_without_another_answer():
    committed = threading.Event()
    seen: list[list[object]] = []

    def commit(rows):
        seen.append(list(rows))
        committed.set()

    pending = Batch(commit, age=0.05, rows=100)
    pending.add(("a",))
    pending.add(("b",))
    assert committed.wait(10)  # no third answer comes: the clock commits the two
    pending.close()
    assert seen == [[("a",), ("b",)]]


def test_closing_commits_what_waits_and_stops_the_clock():
    seen: list[list[object]] = []
    pending = Batch(lambda rows: seen.append(list(rows)), age=3600, rows=100)
    pending.add(("a",))
    pending.close()
    assert seen == [[("a",)]]
    assert not any(t.name == "state-commits" and t.is_alive() for t in threading.enumerate())


def test_a_batch_that_cannot_be_written_counts_every_answer_in_it_unstored(tmp_path):
    state = State(tmp_path / "s.db")
    state.store("e", _answer(0))
    state._db.execute("DROP TABLE responses")  # the write fails as a full disk would
    for n in range(1, 4):
        state.store("e", _answer(n))
    state.end_run("r", "t", "complete", {}, 0, 0, 0)
    assert state.failure is not None and state.unstored == 4
    state.close()
