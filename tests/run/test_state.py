"""The state file: a file of an older layout is rebuilt, not misread; a non-database is a clear error."""

from __future__ import annotations

import sqlite3

import pytest

from audit.errors import UserError
from audit.run.state import LAYOUT, State, StoredAnswer


def test_an_older_layout_is_rebuilt_and_history_kept(tmp_path):
    path = tmp_path / "state.db"
    with sqlite3.connect(path) as old:  # the layout before checked_with and notes existed
        old.execute(
            "CREATE TABLE responses (endpoint TEXT, access_key_id TEXT, job_type TEXT, job_id TEXT, "
            "body TEXT, fetched_at TEXT, final INTEGER, run_id TEXT)"
        )
        old.execute("INSERT INTO responses VALUES ('e', 'k', 'ai', 'j', '{}', 't', 1, 'r')")
        old.execute(
            "CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT, "
            "manifest_digest TEXT NOT NULL, endpoint TEXT NOT NULL, status TEXT NOT NULL, counts TEXT, "
            "calls INTEGER, retries INTEGER, throttles INTEGER)"
        )
        old.execute(
            "INSERT INTO runs (run_id, started_at, manifest_digest, endpoint, status) "
            "VALUES ('old', 's', 'd', 'e', 'complete')"
        )
    state = State(path, "e", "k")
    assert state.lookup([("ai", "j")]) == {}
    state.store(StoredAnswer("ai", "j", "{}", "t", True, "0.1.0", "[]", "new"))
    assert state.lookup([("ai", "j")])[("ai", "j")].final
    assert [row["run_id"] for row in state.history()] == ["old"]
    state.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (LAYOUT,)


def test_the_current_layout_is_kept(tmp_path):
    path = tmp_path / "state.db"
    first = State(path, "e", "k")
    first.store(StoredAnswer("ai", "j", "{}", "t", True, "0.1.0", "[]", "r"))
    first.close()
    assert State(path, "e", "k").lookup([("ai", "j")])


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "state.db"
    path.write_text("not sqlite at all, but long enough to be read as a header" * 20)
    with pytest.raises(UserError, match="cannot open state"):
        State(path, "e", "k")


def test_a_state_without_the_later_columns_gets_them_in_place(tmp_path):
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE responses (endpoint TEXT, access_key_id TEXT, job_type TEXT, job_id TEXT, body TEXT,
                fetched_at TEXT, final INTEGER, checked_with TEXT, notes TEXT, run_id TEXT,
                PRIMARY KEY (endpoint, access_key_id, job_type, job_id));
            CREATE TABLE runs (run_id TEXT PRIMARY KEY, started_at TEXT NOT NULL, finished_at TEXT,
                manifest_digest TEXT NOT NULL, endpoint TEXT NOT NULL, status TEXT NOT NULL, counts TEXT,
                calls INTEGER, retries INTEGER, throttles INTEGER);
            INSERT INTO responses VALUES ('e', 'k', 'ai', 'j', '{}', 't', 1, 'v', '[]', 'r');
            INSERT INTO runs (run_id, started_at, manifest_digest, endpoint, status) VALUES ('r', 't', 'd', 'e', 'complete');
            PRAGMA user_version=2;
            """
        )
    state = State(path, "e", "k")
    assert list(state.lookup([("ai", "j")])) == [("ai", "j")]  # kept, not dropped
    assert [run["run_id"] for run in state.history()] == ["r"] and state.history()[0]["changes"] is None
    state.close()
