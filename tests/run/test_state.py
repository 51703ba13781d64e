"""The state file: a file of an older layout is rebuilt, not misread; a non-database is a clear error."""

from __future__ import annotations

import sqlite3

import pytest

from audit.common.errors import UserError
from audit.state.sqlite import LAYOUT, State
from audit.state.store import StoredAnswer


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
    state = State(path)
    assert state.lookup("e", [("ai", "j")]) == {}
    state.store("e", StoredAnswer("ai", "j", "{}", "t", True, "0.1.0", "[]", "new"))
    assert state.lookup("e", [("ai", "j")])[("ai", "j")].final
    assert [row["run_id"] for row in state.history()] == ["old"]
    state.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (LAYOUT,)


def test_the_current_layout_is_kept(tmp_path):
    path = tmp_path / "state.db"
    first = State(path)
    first.store("e", StoredAnswer("ai", "j", "{}", "t", True, "0.1.0", "[]", "r"))
    first.close()
    assert State(path).lookup("e", [("ai", "j")])


def test_a_file_that_is_not_a_database(tmp_path):
    path = tmp_path / "state.db"
    path.write_text("not sqlite at all, but long enough to be read as a header" * 20)
    with pytest.raises(UserError, match="cannot open state"):
        State(path)


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
    state = State(path)
    assert list(state.lookup("e", [("ai", "j")])) == [("ai", "j")]  # kept, not dropped
    assert [run["run_id"] for run in state.history()] == ["r"] and state.history()[0]["changes"] is None
    state.close()


def test_layout_2_answers_of_several_access_keys_become_one_per_job(tmp_path):
    path = tmp_path / "s.db"
    with sqlite3.connect(path) as old:
        old.executescript(
            """
            CREATE TABLE responses (endpoint TEXT, access_key_id TEXT, job_type TEXT, job_id TEXT, body TEXT,
                fetched_at TEXT, final INTEGER, checked_with TEXT, notes TEXT, run_id TEXT,
                canonical INTEGER NOT NULL DEFAULT 0,
                PRIMARY KEY (endpoint, access_key_id, job_type, job_id));
            INSERT INTO responses VALUES ('e', 'STS.one', 'ai', 'j', '{"old":1}', '2026-01-01T00:00:00Z', 1, 'v', '[]', 'r', 1);
            INSERT INTO responses VALUES ('e', 'STS.two', 'ai', 'j', '{"new":1}', '2026-01-02T00:00:00Z', 1, 'v', '[]', 'r', 1);
            PRAGMA user_version=2;
            """
        )
    state = State(path)
    found = state.lookup("e", [("ai", "j")])
    assert found[("ai", "j")].body == '{"new":1}' and found[("ai", "j")].account == ""
    state.close()


def test_answers_known_to_belong_to_another_account_are_not_served(tmp_path):
    state = State(tmp_path / "s.db")
    state.store("e", StoredAnswer("ai", "mine", "{}", "t", True, "v", "[]", "r", account="111"))
    state.store("e", StoredAnswer("ai", "theirs", "{}", "t", True, "v", "[]", "r", account="222"))
    state.store("e", StoredAnswer("ai", "unknown", "{}", "t", True, "v", "[]", "r"))
    keys = [("ai", "mine"), ("ai", "theirs"), ("ai", "unknown")]
    assert sorted(state.lookup("e", keys, "111")) == [("ai", "mine"), ("ai", "unknown")]
    assert sorted(state.lookup("e", keys)) == sorted(
        keys
    )  # the run's own account unknown: the service's answers
    state.learn_account("key AK1", "111")
    assert state.account_of("key AK1") == "111" and state.account_of("key AK2") is None
    state.close()
    assert b"AK1" not in (tmp_path / "s.db").read_bytes()  # identities are kept as digests


def test_a_layout_4_file_keeps_its_answers_and_gains_their_judgements(tmp_path):
    # Layout 5 adds two columns to `responses`: a file of layout 4 keeps every stored answer (no
    # call is made again for them), with no judgement yet (the next run judges and keeps it).
    path = tmp_path / "state.db"
    state = State(path)
    state.store("e", StoredAnswer("ai", "j", "{}", "t", True, "v", "[]", "r", judged_with="k", judged="[]"))
    state.close()
    with sqlite3.connect(path) as database:
        database.executescript(
            "ALTER TABLE responses DROP COLUMN judged; ALTER TABLE responses DROP COLUMN judged_with; "
            "PRAGMA user_version=4;"
        )
    state = State(path)
    kept = state.lookup("e", [("ai", "j")])[("ai", "j")]
    state.close()
    assert (kept.body, kept.final, kept.judged_with, kept.judged) == ("{}", True, "", "")
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (LAYOUT,)


def test_a_long_body_is_kept_compressed_and_a_layout_5_files_text_bodies_are_read_as_they_are(tmp_path):
    # Layout 6 keeps a body of 1,024 characters or more as a BLOB of its zlib: a third of the bytes.
    # A file of layout 5 (every body text) is read as it is, and `state copy` carries text.
    long_body = '{"RequestId":"r","JobType":"ai","Detail":"' + "é" * 1100 + '"}'
    path = tmp_path / "state.db"
    state = State(path)
    state.store("e", StoredAnswer("ai", "long", long_body, "t", True, "v", "[]", "r"))
    state.store("e", StoredAnswer("ai", "short", "{}", "t", True, "v", "[]", "r"))
    assert state.lookup("e", [("ai", "long")])[("ai", "long")].body == long_body
    copied = {row[2]: row[3] for row in state.rows("responses")}
    state.close()
    assert copied == {"long": long_body, "short": "{}"}
    with sqlite3.connect(path) as database:
        kinds = dict(database.execute("SELECT job_id, typeof(body) FROM responses"))
        assert kinds == {"long": "blob", "short": "text"}
        assert database.execute("SELECT length(body) FROM responses WHERE job_id='long'").fetchone()[0] < 200
        database.executescript(
            f"UPDATE responses SET body='{long_body}' WHERE job_id='long'; PRAGMA user_version=5;"
        )
    state = State(path)
    assert state.lookup("e", [("ai", "long")])[("ai", "long")].body == long_body
    state.close()
    assert sqlite3.connect(path).execute("PRAGMA user_version").fetchone() == (LAYOUT,)
