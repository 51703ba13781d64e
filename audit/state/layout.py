"""The state file's tables, and how a file of an older layout is brought to this one."""

from __future__ import annotations

import sqlite3

# PRAGMA user_version of the table layout below (2: notes hold warnings with their rule; 3: answers
# keyed by service and job, whatever AccessKey asked, with the account they belong to; 4: findings
# per audit; 5: a final answer's judgement kept with it; 6: a body may be kept compressed, as a BLOB)
LAYOUT = 6
# PRAGMA application_id of every state file this tool writes ("vdat"): files of other programs are
# refused, never migrated. Files written before it was set have 0 and only tables of ours.
APPLICATION_ID = int.from_bytes(b"vdat", "big")
OUR_TABLES = frozenset(
    {"responses", "responses_2", "accounts", "runs", "job_findings", "job_findings_3", "run_jobs"}
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    endpoint TEXT NOT NULL,
    job_type TEXT NOT NULL,
    job_id TEXT NOT NULL,
    body TEXT NOT NULL,                -- JSON text, or a BLOB of its zlib (audit.state.packed)
    fetched_at TEXT NOT NULL,
    final INTEGER NOT NULL,            -- terminal and schema-valid: no need to ask again
    checked_with TEXT NOT NULL,        -- tool version and strictness the body was validated under
    notes TEXT NOT NULL,               -- its schema warnings and notes, as JSON [pointer, message, severity, rule, evidence]
    run_id TEXT NOT NULL,
    canonical INTEGER NOT NULL DEFAULT 0,  -- 1 when the body as received is already compact JSON
    account TEXT NOT NULL DEFAULT '',  -- the account UID the answer belongs to; '' when unknown
    judged_with TEXT NOT NULL DEFAULT '',  -- a final answer's: digest of the tool, --strict and the expectation
    judged TEXT NOT NULL DEFAULT '',   -- a final answer's judgement under it, as JSON (audit.state.answers)
    PRIMARY KEY (endpoint, job_type, job_id)
);
-- Which account a source of credentials belongs to, learnt from the UserId its answers carry:
-- keyed by a digest of the source's stable identity (an AccessKey ID, a role ARN), never a secret.
CREATE TABLE IF NOT EXISTS accounts (
    identity TEXT PRIMARY KEY,
    account TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS runs (
    run_id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    finished_at TEXT,
    manifest_digest TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    status TEXT NOT NULL,              -- running | complete | incomplete | failed
    counts TEXT,
    calls INTEGER, retries INTEGER, throttles INTEGER,
    changes TEXT,                      -- jobs new, ongoing, resolved, as JSON
    sums TEXT,                         -- SHA-256 of its report set's SHA256SUMS, once written
    audit TEXT NOT NULL DEFAULT ''     -- the audit (manifest `name:` or file names) it was a run of
);
-- Night over night: per audit, service and job, the findings of the audit's last complete run that
-- audited it, each with when its unbroken streak began. Jobs never audited with findings have no row.
-- Audits are kept apart (two manifests sharing a state never compare with each other); answers in
-- `responses` are shared.
CREATE TABLE IF NOT EXISTS job_findings (
    audit TEXT NOT NULL DEFAULT '',
    endpoint TEXT NOT NULL,
    job_type TEXT NOT NULL,
    job_id TEXT NOT NULL,
    findings TEXT NOT NULL,            -- JSON {"kind:field": first_seen}
    PRIMARY KEY (audit, endpoint, job_type, job_id)
);
-- Each run's outcome and finding fingerprints per audited job, compressed: one row a run.
CREATE TABLE IF NOT EXISTS run_jobs (
    run_id TEXT PRIMARY KEY,
    jobs BLOB NOT NULL                 -- zlib of lines "type<TAB>id<TAB>outcome<TAB>kind:field,..."
);
"""
# Columns added after a table's first layout: a file of the older layout gets them in place, nothing
# is dropped.
ADDED_COLUMNS = {
    "runs": {"changes": "TEXT", "sums": "TEXT", "audit": "TEXT NOT NULL DEFAULT ''"},
    # 1 when the body as received is already its compact JSON form: reused as it is, not re-encoded
    "responses": {
        "canonical": "INTEGER NOT NULL DEFAULT 0",
        # a final answer's judgement, reused while its judged_with digest is unchanged (layout 5)
        "judged_with": "TEXT NOT NULL DEFAULT ''",
        "judged": "TEXT NOT NULL DEFAULT ''",
    },
}
# Layout 2 kept answers per AccessKey ID: they move to one row per service and job (the newest
# answer of a job wins), of an unknown account.
FROM_LAYOUT_2 = """
ALTER TABLE responses RENAME TO responses_2;
{schema}
INSERT OR REPLACE INTO responses (endpoint, job_type, job_id, body, fetched_at, final, checked_with,
    notes, run_id, canonical)
    SELECT endpoint, job_type, job_id, body, fetched_at, final, checked_with, notes, run_id, canonical
    FROM responses_2 ORDER BY fetched_at;
DROP TABLE responses_2;
"""
# Layout 3 kept findings per service and job, whatever the manifest: they become the unnamed audit's
# (''), which the first audit run on the upgraded file takes over (see State.begin_run).
FROM_LAYOUT_3 = """
ALTER TABLE job_findings RENAME TO job_findings_3;
{schema}
INSERT INTO job_findings (audit, endpoint, job_type, job_id, findings)
    SELECT '', endpoint, job_type, job_id, findings FROM job_findings_3;
DROP TABLE job_findings_3;
"""


def upgrade(db: sqlite3.Connection, layout: int) -> None:
    """Brings a file of an older layout to this one; run history is always kept."""
    if layout == LAYOUT:
        return
    for table, columns in ADDED_COLUMNS.items():
        present = {row[1] for row in db.execute(f"PRAGMA table_info({table})")}
        for column, kind in columns.items():
            if present and column not in present:
                db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
    findings = {row[1] for row in db.execute("PRAGMA table_info(job_findings)")}
    if findings and "audit" not in findings:
        db.executescript(f"BEGIN IMMEDIATE; {FROM_LAYOUT_3.format(schema=SCHEMA)} COMMIT;")
    if layout == 2:
        db.executescript(f"BEGIN IMMEDIATE; {FROM_LAYOUT_2.format(schema=SCHEMA)} COMMIT;")
    elif layout not in (3, 4, 5):
        # Stored responses are only a cache of the API: a file of another layout has them
        # dropped (the next run asks again) rather than misread.
        db.execute("DROP TABLE IF EXISTS responses")
