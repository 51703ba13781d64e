"""SQLite state (WAL): every response as it arrives, and the history of runs. No secret is stored."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

from audit.errors import UserError
from audit.jobtypes import JobRef

# PRAGMA user_version of the table layout below (2: notes hold warnings with their rule; 3: answers
# keyed by service and job, whatever AccessKey asked, with the account they belong to)
LAYOUT = 4
# PRAGMA application_id of every state file this tool writes ("vdat"): files of other programs are
# refused, never migrated. Files written before it was set have 0 and only tables of ours.
APPLICATION_ID = int.from_bytes(b"vdat", "big")
_OUR_TABLES = frozenset(
    {"responses", "responses_2", "accounts", "runs", "job_findings", "job_findings_3", "run_jobs"}
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    endpoint TEXT NOT NULL,
    job_type TEXT NOT NULL,
    job_id TEXT NOT NULL,
    body TEXT NOT NULL,
    fetched_at TEXT NOT NULL,
    final INTEGER NOT NULL,            -- terminal and schema-valid: no need to ask again
    checked_with TEXT NOT NULL,        -- tool version and strictness the body was validated under
    notes TEXT NOT NULL,               -- its schema warnings and notes, as JSON [pointer, message, severity, rule, evidence]
    run_id TEXT NOT NULL,
    canonical INTEGER NOT NULL DEFAULT 0,  -- 1 when the body as received is already compact JSON
    account TEXT NOT NULL DEFAULT '',  -- the account UID the answer belongs to; '' when unknown
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
_ADDED_COLUMNS = {
    "runs": {"changes": "TEXT", "sums": "TEXT", "audit": "TEXT NOT NULL DEFAULT ''"},
    # 1 when the body as received is already its compact JSON form: reused as it is, not re-encoded
    "responses": {"canonical": "INTEGER NOT NULL DEFAULT 0"},
}
# Layout 2 kept answers per AccessKey ID: they move to one row per service and job (the newest
# answer of a job wins), of an unknown account.
_FROM_LAYOUT_2 = """
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
_FROM_LAYOUT_3 = """
ALTER TABLE job_findings RENAME TO job_findings_3;
{schema}
INSERT INTO job_findings (audit, endpoint, job_type, job_id, findings)
    SELECT '', endpoint, job_type, job_id, findings FROM job_findings_3;
DROP TABLE job_findings_3;
"""


@dataclass(frozen=True, slots=True)
class StoredAnswer:
    """One job's latest answer as kept in state (a row of `responses`, less the service it came from)."""

    job_type: str
    job_id: str
    body: str  # the body's JSON text
    fetched_at: str
    final: bool  # terminal and schema-valid: no need to ask again
    checked_with: str  # tool version and strictness the body was validated under
    notes: str  # its schema warnings and notes, as JSON
    run_id: str
    canonical: bool = False  # the body is already its compact JSON form
    account: str = ""  # the account UID the answer belongs to; '' when unknown


class State:
    """Each response is committed the moment it is stored; fetch workers store through one lock."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Opens (creating it for a run) the state at `path`. `read_only` opens it for reading
        commands (`history`): nothing is created, upgraded or written."""
        self.path = path
        # Set when a write failed (a full disk, a file-size limit): the run goes on and reports what
        # it collected, and says so; later writes are not tried.
        self.failure: str | None = None
        self.unstored = 0
        self.audit = ""  # the audit of the run begun (begin_run): its history and findings only
        self._lock = threading.Lock()
        try:
            if read_only:
                uri = f"file:{quote(str(path.resolve()))}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                self._check_ours()
                if not self._db.execute("SELECT 1 FROM sqlite_master WHERE name='runs'").fetchone():
                    self._db.close()
                    raise UserError(f"{path}: a state that holds no run yet")
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._check_ours()
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a killed process never corrupts the database; only a power cut may lose
            # the last commits, which the next run simply asks for again.
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._upgrade(self._db.execute("PRAGMA user_version").fetchone()[0])
            # One transaction: a new file's tables and stamps take one WAL frame per page, not one each.
            self._db.executescript(
                f"BEGIN; {SCHEMA} PRAGMA user_version={LAYOUT}; PRAGMA application_id={APPLICATION_ID}; COMMIT;"
            )
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"cannot open state {path}: {exc}") from None

    def _check_ours(self) -> None:
        """Refuses, before anything is changed, a file of another program or of a newer layout."""
        application = self._db.execute("PRAGMA application_id").fetchone()[0]
        layout = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if application not in (0, APPLICATION_ID) or (application == 0 and not tables <= _OUR_TABLES):
            self._db.close()
            raise UserError(
                f"{self.path}: not a vod-audit state (an SQLite file of another program); nothing was "
                "changed; choose another --state"
            )
        if layout > LAYOUT:
            self._db.close()
            raise UserError(
                f"{self.path}: written by a newer vod-audit (state layout {layout}; this version knows up "
                f"to {LAYOUT}); nothing was changed; use that version, or another --state"
            )

    def _upgrade(self, layout: int) -> None:
        """Brings a file of an older layout to this one; run history is always kept."""
        if layout == LAYOUT:
            return
        for table, columns in _ADDED_COLUMNS.items():
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            for column, kind in columns.items():
                if present and column not in present:
                    self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        findings = {row[1] for row in self._db.execute("PRAGMA table_info(job_findings)")}
        if findings and "audit" not in findings:
            self._db.executescript(f"BEGIN; {_FROM_LAYOUT_3.format(schema=SCHEMA)} COMMIT;")
        if layout == 2:
            self._db.executescript(f"BEGIN; {_FROM_LAYOUT_2.format(schema=SCHEMA)} COMMIT;")
        elif layout != 3:
            # Stored responses are only a cache of the API: a file of another layout has them
            # dropped (the next run asks again) rather than misread.
            self._db.execute("DROP TABLE IF EXISTS responses")

    def close(self) -> None:
        self._db.close()

    def lookup(
        self, service: str, keys: Iterable[JobRef], account: str | None = None
    ) -> dict[JobRef, StoredAnswer]:
        """Stored answers of these (type, id) keys from this service (an endpoint), whatever AccessKey
        asked for them; with `account` known, never one known to belong to another account."""
        wanted = set(keys)
        found: dict[JobRef, StoredAnswer] = {}
        rows = self._db.execute(
            "SELECT job_type, job_id, body, fetched_at, final, checked_with, notes, run_id, canonical, "
            "account FROM responses WHERE endpoint=?",
            (service,),
        )
        for job_type, job_id, body, fetched_at, final, checked_with, notes, run_id, canonical, owner in rows:
            if (job_type, job_id) in wanted and (not account or not owner or owner == account):
                found[JobRef(job_type, job_id)] = StoredAnswer(
                    job_type,
                    job_id,
                    body,
                    fetched_at,
                    bool(final),
                    checked_with,
                    notes,
                    run_id,
                    bool(canonical),
                    owner,
                )
        return found

    def store(self, service: str, answer: StoredAnswer) -> None:
        """Commits one answer at once (called from the fetch workers)."""
        row = (
            service,
            answer.job_type,
            answer.job_id,
            answer.body,
            answer.fetched_at,
            int(answer.final),
            answer.checked_with,
            answer.notes,
            answer.run_id,
            int(answer.canonical),
            answer.account,
        )
        with self._lock:
            statement = (
                "INSERT OR REPLACE INTO responses (endpoint, job_type, job_id, body, fetched_at, "
                "final, checked_with, notes, run_id, canonical, account) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            )
            if not self._write(statement, row):
                self.unstored += 1

    def _write(self, statement: str, values: tuple[object, ...]) -> bool:
        """True when the statement was committed."""
        if self.failure is not None:
            return False
        try:
            self._db.execute(statement, values)
        except sqlite3.Error as exc:
            self.failure = str(exc)
            return False
        return True

    def account_of(self, identity: str) -> str | None:
        """The account a source of credentials was last seen to belong to, if known."""
        row = self._db.execute(
            "SELECT account FROM accounts WHERE identity=?", (_digest(identity),)
        ).fetchone()
        return str(row[0]) if row else None

    def learn_account(self, identity: str, account: str) -> None:
        self._write("INSERT OR REPLACE INTO accounts VALUES (?, ?)", (_digest(identity), account))

    def begin_run(
        self, run_id: str, started_at: str, manifest_digest: str, services: str, audit: str
    ) -> None:
        """Records the run as running. The first audit run on a file upgraded from layout 3 takes over
        the history written before audits were kept apart (most states served one manifest)."""
        if not self._db.execute("SELECT 1 FROM runs WHERE audit=? LIMIT 1", (audit,)).fetchone():
            self._write("UPDATE runs SET audit=? WHERE audit=''", (audit,))
            self._write("UPDATE job_findings SET audit=? WHERE audit=''", (audit,))
        self._write(
            "INSERT INTO runs (run_id, started_at, manifest_digest, endpoint, status, audit) "
            "VALUES (?, ?, ?, ?, 'running', ?)",
            (run_id, started_at, manifest_digest, services, audit),
        )
        self.audit = audit

    def end_run(
        self,
        run_id: str,
        finished_at: str,
        status: str,
        counts: dict[str, int],
        calls: int,
        retries: int,
        throttles: int,
    ) -> None:
        if self.failure is None:
            self._write(
                "UPDATE runs SET finished_at=?, status=?, counts=?, calls=?, retries=?, throttles=? WHERE run_id=?",
                (finished_at, status, json.dumps(counts), calls, retries, throttles, run_id),
            )

    def reported(self, run_id: str, sums: str) -> None:
        """The run's report set is written, under a SHA256SUMS of this digest."""
        self._write("UPDATE runs SET sums=? WHERE run_id=?", (sums, run_id))

    def last_sums(self) -> str | None:
        """The SHA256SUMS digest of this audit's last run whose report set was written: the night before."""
        row = self._db.execute(
            "SELECT sums FROM runs WHERE sums IS NOT NULL AND audit=? ORDER BY rowid DESC LIMIT 1",
            (self.audit,),
        ).fetchone()
        return str(row[0]) if row else None

    def history(self, audit: str | None = None) -> list[dict[str, object]]:
        """The runs of one audit (None: of every audit) recorded in this state, oldest first, as dicts
        of the `runs` columns."""
        # In the order the runs began: rowid, since two runs may start within one second.
        if audit is None:
            cursor = self._db.execute("SELECT * FROM runs ORDER BY rowid")
        else:
            cursor = self._db.execute("SELECT * FROM runs WHERE audit=? ORDER BY rowid", (audit,))
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor]

    def last_jobs(self, audit: str) -> set[JobRef] | None:
        """The jobs an audit's last complete run audited (None: it has had none)."""
        row = self._db.execute(
            "SELECT run_jobs.jobs FROM runs JOIN run_jobs USING (run_id) WHERE runs.audit=? AND "
            "runs.status='complete' ORDER BY runs.rowid DESC LIMIT 1",
            (audit,),
        ).fetchone()
        if row is None:
            return None
        lines = zlib.decompress(row[0]).decode().splitlines()
        return {JobRef(*line.split("\t", 2)[:2]) for line in lines if line}

    def previous_findings(self, services: Mapping[JobRef, str]) -> dict[JobRef, dict[str, str]]:
        """Each job's findings at the last complete run that audited it, from the service it is
        audited at now (`services`: (type, id) to service)."""
        found: dict[JobRef, dict[str, str]] = {}
        for service in set(services.values()):
            rows = self._db.execute(
                "SELECT job_type, job_id, findings FROM job_findings WHERE audit=? AND endpoint=?",
                (self.audit, service),
            )
            for job_type, job_id, findings in rows:
                ref = JobRef(job_type, job_id)
                if services.get(ref) == service:
                    found[ref] = json.loads(findings)
        return found

    def remember(
        self,
        run_id: str,
        audited: Iterable[tuple[str, str, str, dict[str, str]]],
        changes: dict[str, int],
        known: Iterable[JobRef],
        services: Mapping[JobRef, str],
    ) -> None:
        """After a complete run: each audited job's findings replace what was known of it at its
        service, and the run keeps its own compact record. (type, id, outcome, {kind:field:
        first_seen}) per job."""
        listed = list(audited)
        lines = "\n".join(f"{t}\t{i}\t{o}\t{','.join(sorted(f))}" for t, i, o, f in listed)
        with self._lock:
            try:
                self._db.execute("BEGIN")
                had = set(known)  # only jobs that had findings have a row to remove
                self._db.executemany(
                    "DELETE FROM job_findings WHERE audit=? AND endpoint=? AND job_type=? AND job_id=?",
                    (
                        (self.audit, services[JobRef(t, i)], t, i)
                        for t, i, _, f in listed
                        if not f and JobRef(t, i) in had
                    ),
                )
                self._db.executemany(
                    "INSERT OR REPLACE INTO job_findings (audit, endpoint, job_type, job_id, findings) "
                    "VALUES (?, ?, ?, ?, ?)",
                    ((self.audit, services[JobRef(t, i)], t, i, json.dumps(f)) for t, i, _, f in listed if f),
                )
                self._db.execute(
                    "INSERT OR REPLACE INTO run_jobs VALUES (?, ?)",
                    (run_id, zlib.compress(lines.encode(), 6)),
                )
                self._db.execute("UPDATE runs SET changes=? WHERE run_id=?", (json.dumps(changes), run_id))
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self.failure = self.failure or str(exc)


def _digest(identity: str) -> str:
    """A source's identity as kept in state: a digest, so that nothing about it can be read back."""
    return hashlib.sha256(identity.encode("utf-8")).hexdigest()
