"""Issue #39: what is the PostgreSQL backend's own: its schema, its refusals, its password kept out of words."""

from __future__ import annotations

import psycopg
import pytest

from audit.common.errors import UserError
from audit.common.where import state_at, without_password
from audit.state.backends import open_existing, open_store
from audit.state.pglayout import LAYOUT


def test_the_tables_live_in_their_own_schema_with_their_layout(postgres_server, postgres_url):
    open_store(state_at(postgres_url, "nightly_state")).close()
    with psycopg.connect(postgres_url) as db:
        tables = {
            r[0]
            for r in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema='nightly_state'"
            )
        }
        assert {"responses", "runs", "job_findings", "run_jobs", "accounts", "holders", "meta"} <= tables
        assert db.execute("SELECT value FROM nightly_state.meta WHERE key='layout'").fetchone() == (
            str(LAYOUT),
        )
        assert not db.execute("SELECT 1 FROM pg_namespace WHERE nspname='vod_audit'").fetchone()


def test_a_newer_layout_or_another_programs_schema_is_refused_unchanged(postgres_url):
    open_store(state_at(postgres_url)).close()
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("UPDATE vod_audit.meta SET value='99' WHERE key='layout'")
        db.execute("CREATE SCHEMA theirs; CREATE TABLE theirs.runs (x int)")
    with pytest.raises(UserError, match=r"newer vod-audit \(state layout 99; .*nothing was changed"):
        open_store(state_at(postgres_url))
    with pytest.raises(UserError, match="schema theirs holds tables of another program; nothing was changed"):
        open_store(state_at(postgres_url, "theirs"))
    with psycopg.connect(postgres_url) as db:
        assert db.execute("SELECT value FROM vod_audit.meta WHERE key='layout'").fetchone() == ("99",)
        assert db.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema='theirs'"
        ).fetchone() == (1,)


def test_a_wrong_password_is_one_sentence_without_it(postgres_server):
    url = postgres_server.url(password="wrong-secret-x9")
    with pytest.raises(UserError) as refused:
        open_store(state_at(url))
    said = str(refused.value)
    assert "wrong-secret-x9" not in said and "\n" not in said
    assert said.startswith(
        f"cannot open state postgresql://admin@127.0.0.1:{postgres_server.port}/postgres: "
    )
    assert "password authentication failed" in said


def test_a_least_privilege_role_works_in_a_schema_made_for_it(postgres_server, postgres_url):
    with psycopg.connect(postgres_url, autocommit=True) as db:
        db.execute("CREATE ROLE auditor LOGIN PASSWORD 'auditor-pw'")
        db.execute("CREATE SCHEMA vod_audit AUTHORIZATION auditor")
        db.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
    database = postgres_url.rsplit("/", 1)[1]
    url = postgres_server.url(database, user="auditor", password="auditor-pw")
    store = open_store(state_at(url))
    store.begin_run("r1", "s", "d", "e", "a")
    store.close()
    reader = open_existing(state_at(url))
    assert reader is not None and [r["run_id"] for r in reader.history()] == ["r1"]
    reader.close()


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        (
            "postgresql://auditor:s3cret@db.example:5432/audit?sslmode=verify-full",
            "postgresql://auditor@db.example:5432/audit?sslmode=verify-full",
        ),
        (
            "postgres://auditor@db/audit?password=s3cret&application_name=x",
            "postgres://auditor@db/audit?application_name=x",
        ),
        ("postgresql://:s3cret@/audit", "postgresql://@/audit"),
    ],
)
def test_what_outputs_say_of_a_url_never_holds_its_password(url, shown):
    assert without_password(url) == shown
    assert state_at(url).shown == shown and str(state_at(url)) == shown


def test_a_schema_name_is_checked_before_anything_is_sent():
    with pytest.raises(UserError, match="--state-schema 'Bad;Name'"):
        state_at("postgresql://h/d", "Bad;Name")
