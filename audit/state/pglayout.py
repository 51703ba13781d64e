"""The PostgreSQL state's tables, in a schema of their own, and how a schema is made or refused."""

from __future__ import annotations

from typing import Any

from psycopg import Connection, sql

from audit.common.errors import UserError

# The layout of the tables below, recorded in `meta` (1: the SQLite layout 5's tables, and `holders`).
# A schema of a newer layout is refused unchanged; an older one is brought to this in place.
LAYOUT = 1
APPLICATION = "vod-audit"  # meta's `application`: a schema of another program is never touched
# pg_advisory_xact_lock key held while a schema is made or upgraded: two first runs at once make it once.
SETUP_KEY = int.from_bytes(b"vdat-set", "big") - (1 << 63)
TABLES = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS responses (
    endpoint TEXT NOT NULL,
    job_type TEXT NOT NULL,
    job_id TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    final INTEGER NOT NULL,
    checked_with TEXT NOT NULL,
    notes TEXT NOT NULL,
    run_id TEXT NOT NULL,
    canonical INTEGER NOT NULL DEFAULT 0,
    account TEXT NOT NULL DEFAULT '',
    judged_with TEXT NOT NULL DEFAULT '',
    judged TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (endpoint, job_type, job_id)
);
CREATE TABLE IF NOT EXISTS accounts (identity TEXT PRIMARY KEY, account TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS runs (
    seq BIGSERIAL UNIQUE,              -- the order runs began in (SQLite's rowid)
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    manifest_digest TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,
    counts TEXT,
    calls INTEGER, retries INTEGER, throttles INTEGER,
    changes TEXT,
    sums TEXT,
    audit TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS runs_by_audit ON runs (audit, seq);
CREATE TABLE IF NOT EXISTS job_findings (
    audit TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL,
    job_type TEXT NOT NULL,
    job_id TEXT NOT NULL,
    findings TEXT NOT NULL,
    PRIMARY KEY (audit, endpoint, job_type, job_id)
);
CREATE TABLE IF NOT EXISTS run_jobs (run_id TEXT PRIMARY KEY, jobs BYTEA NOT NULL);
-- Who holds each audit's advisory lock (audit.state.pglock): words only, the lock is the session's.
CREATE TABLE IF NOT EXISTS holders (audit TEXT PRIMARY KEY, words TEXT NOT NULL);
"""


def prepare(db: Connection[Any], schema: str, shown: str, *, create: bool) -> bool:
    """Makes (with `create`) or checks the schema: False when a reader finds no state there. A
    schema of another program or of a newer layout is refused before anything is changed."""
    with db.transaction():
        db.execute("SELECT pg_advisory_xact_lock(%s)", (SETUP_KEY,))
        tables = {
            row[0]
            for row in db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema=%s", (schema,)
            )
        }
        if tables and "meta" not in tables:
            raise UserError(
                f"{shown}: schema {schema} holds tables of another program; nothing was changed; "
                "choose another --state-schema"
            )
        if "meta" in tables:
            meta = dict(db.execute(sql.SQL("SELECT key, value FROM {}.meta").format(sql.Identifier(schema))))
            if meta.get("application") != APPLICATION:
                raise UserError(f"{shown}: schema {schema} is not a vod-audit state; nothing was changed")
            if int(meta.get("layout", "0")) > LAYOUT:
                raise UserError(
                    f"{shown}: written by a newer vod-audit (state layout {meta['layout']}; this version "
                    f"knows up to {LAYOUT}); nothing was changed; use that version, or another --state-schema"
                )
        if not create:
            return "runs" in tables
        if not db.execute("SELECT 1 FROM pg_namespace WHERE nspname=%s", (schema,)).fetchone():
            # Only when missing: CREATE on the database is a right a least-privilege role lacks
            # (docs/state.md has the DBA make the schema and grant CREATE on it).
            db.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(schema)))
        db.execute(sql.SQL("SET LOCAL search_path TO {}").format(sql.Identifier(schema)))
        db.execute(TABLES)
        db.execute(
            "INSERT INTO meta VALUES ('application', %s), ('layout', %s) "
            "ON CONFLICT (key) DO UPDATE SET value=excluded.value",
            (APPLICATION, str(LAYOUT)),
        )
    return True
