"""Issue #39: the same `Store` behaviour on SQLite and PostgreSQL, one test run against each backend."""

from __future__ import annotations

import pytest

import audit.state.batch as batch
from audit.common.errors import UserError
from audit.common.jobtypes import JobRef
from audit.common.where import state_at
from audit.state.backends import open_existing, open_store
from audit.state.store import TABLES, StoredAnswer


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request, tmp_path):
    """A state's place, empty: a file in tmp_path, or a fresh database on the test server."""
    if request.param == "sqlite":
        return str(tmp_path / "s.db")
    return request.getfixturevalue("postgres_url")


def answer(n: int, **changed: object) -> StoredAnswer:
    fields = {"job_type": "ai", "job_id": f"j{n}", "body": f'{{"n": {n}}}', "fetched_at": "t", "final": True,
              "checked_with": "v", "notes": "[]", "run_id": "r1"}  # fmt: skip
    return StoredAnswer(**{**fields, **changed})  # type: ignore[arg-type]


def test_answers_come_back_as_stored_and_never_another_accounts(where):
    store = open_store(state_at(where))
    store.store("e", answer(1, account="111", judged_with="d", judged='{"o": 1}', canonical=True))
    store.store("e", answer(2, account="222"))
    store.store("e", answer(3))
    store.store("other", answer(4))
    keys = [JobRef("ai", f"j{n}") for n in range(1, 5)]
    assert set(store.lookup("e", keys)) == set(keys[:3])
    mine = store.lookup("e", keys, account="111")
    assert set(mine) == {keys[0], keys[2]}  # unknown owner: served; another account's: never
    assert mine[keys[0]] == answer(1, account="111", judged_with="d", judged='{"o": 1}', canonical=True)
    store.store("e", answer(1, body="{}", final=False))  # a newer answer replaces the old one
    assert store.lookup("e", keys[:1])[keys[0]].final is False
    store.close()
    again = open_store(state_at(where))
    assert again.lookup("other", keys) == {keys[3]: answer(4)}
    again.close()


def test_a_full_batch_is_committed_without_waiting_for_the_run_to_end(where):
    store = open_store(state_at(where))
    for n in range(batch.ROWS + 3):
        store.store("e", answer(n))
    committed = len(_rows_seen_by_another(where))
    assert committed == batch.ROWS  # the last three wait for their batch (or its age)
    store.end_run("r1", "t", "complete", {}, 0, 0, 0)
    assert len(_rows_seen_by_another(where)) == batch.ROWS + 3
    store.close()


def _rows_seen_by_another(where: str) -> list[tuple[object, ...]]:
    other = open_store(state_at(where))
    try:
        return other.rows("responses")
    finally:
        other.close()


def test_runs_findings_and_accounts_are_kept_per_audit(where):
    store = open_store(state_at(where))
    assert store.account_of("AK1") is None
    store.learn_account("AK1", "111")
    assert store.account_of("AK1") == "111"
    store.learn_account("AK1", None)
    assert store.account_of("AK1") is None
    refs = {JobRef("ai", "a"): "e", JobRef("ai", "b"): "e"}
    for run, audit in (("r1", "nightly"), ("r2", "other"), ("r3", "nightly")):
        store.begin_run(run, f"{run}-start", "digest", "e", audit)
        store.end_run(run, f"{run}-end", "complete", {"drift": 1}, 2, 1, 0)
        store.reported(run, f"sums-{run}")
        store.remember(run, [("ai", "a", "drift", {"mismatch:Status": run}), ("ai", "b", "ok", {})],
                       {"new": 1}, refs, refs)  # fmt: skip
    store.begin_run("r4", "r4-start", "digest", "e", "nightly")  # running: not a baseline
    assert store.last_sums() == "sums-r3"
    assert [r["run_id"] for r in store.history("nightly")] == ["r1", "r3", "r4"]
    assert [r["run_id"] for r in store.history()] == ["r1", "r2", "r3", "r4"]
    first = store.history("nightly")[0]
    assert set(first) == set(TABLES["runs"])
    assert (first["status"], first["counts"], first["calls"], first["changes"]) == (
        "complete", '{"drift": 1}', 2, '{"new": 1}'
    )  # fmt: skip
    assert store.last_jobs("nightly") == set(refs)
    assert store.last_jobs("never") is None
    assert store.previous_findings(refs) == {JobRef("ai", "a"): {"mismatch:Status": "r3"}}
    store.remember("r4", [("ai", "a", "ok", {})], {}, refs, refs)  # resolved: its row goes
    assert store.previous_findings(refs) == {}
    store.close()


def test_a_reader_finds_no_state_where_none_was_written_and_changes_nothing(where):
    assert open_existing(state_at(where)) is None
    assert open_existing(state_at(where)) is None  # and made none by looking


def test_every_table_reads_back_what_was_put_in_one_transaction(where, tmp_path):
    source = open_store(state_at(str(tmp_path / "source.db")))
    source.begin_run("r1", "s", "d", "e", "a")
    source.store("e", answer(1))
    source.learn_account("AK", "1")
    source.end_run("r1", "f", "complete", {}, 1, 0, 0)
    source.remember("r1", [("ai", "j1", "drift", {"k:f": "t"})], {}, [], {JobRef("ai", "j1"): "e"})
    target = open_store(state_at(where))
    for table in TABLES:
        target.put(table, source.rows(table))
        assert target.rows(table) == source.rows(table)
    with pytest.raises(UserError, match="cannot add to runs"):
        target.put("runs", source.rows("runs"))  # the same run twice: refused whole
    assert len(target.rows("runs")) == 1
    source.close()
    target.close()
