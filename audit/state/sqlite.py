"""The SQLite backend of the store (WAL): every answer as it arrives, and the history of runs. No secret is stored."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import threading
import zlib
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from urllib.parse import quote

from audit.common.errors import UserError
from audit.common.jobtypes import JobRef
from audit.state.batch import Batch
from audit.state.layout import APPLICATION_ID, LAYOUT, OUR_TABLES, SCHEMA, upgrade
from audit.state.packed import pack, unpack
from audit.state.store import TABLES, NoState, StoredAnswer, digest_identity

BODY = TABLES["responses"].index("body")  # the column `state copy` carries as text, kept packed here


class State:
    """Responses are committed in batches (audit.state.batch); fetch workers store through one lock."""

    def __init__(self, path: Path, *, read_only: bool = False) -> None:
        """Opens (creating it for a run) the state at `path`. `read_only` opens it for reading
        commands (`history`): nothing is created, upgraded or written."""
        self.path = path
        self.where = str(path)
        # Set when a write failed (a full disk, a file-size limit): the run goes on and reports what
        # it collected, and says so; later writes are not tried.
        self.failure: str | None = None
        self.unstored = 0
        self.audit = ""  # the audit of the run begun (begin_run): its history and findings only
        self._lock = threading.Lock()
        self._batch = Batch(self._commit_answers)
        if path.is_dir():
            raise UserError(f"--state {path} is a folder: give a file (or a postgresql:// URL)")
        try:
            if read_only:
                uri = f"file:{quote(str(path.resolve()))}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False)
                self._check_ours()
                if not self._db.execute("SELECT 1 FROM sqlite_master WHERE name='runs'").fetchone():
                    self._db.close()
                    raise NoState(f"{path}: a state that holds no run yet")
                return
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            self._check_ours()
            self._db.execute("PRAGMA journal_mode=WAL")
            # WAL with NORMAL: a killed process never corrupts the database; only a power cut may lose
            # the last commits, which the next run simply asks for again.
            self._db.execute("PRAGMA synchronous=NORMAL")
            upgrade(self._db, self._db.execute("PRAGMA user_version").fetchone()[0])
            # One transaction: a new file's tables and stamps take one WAL frame per page, not one each.
            self._db.executescript(
                f"BEGIN IMMEDIATE; {SCHEMA} PRAGMA user_version={LAYOUT}; PRAGMA application_id={APPLICATION_ID}; COMMIT;"
            )
        except (OSError, sqlite3.Error) as exc:
            raise UserError(f"cannot open state {path}: {exc}") from None

    def _check_ours(self) -> None:
        """Refuses, before anything is changed, a file of another program or of a newer layout."""
        application = self._db.execute("PRAGMA application_id").fetchone()[0]
        layout = self._db.execute("PRAGMA user_version").fetchone()[0]
        tables = {row[0] for row in self._db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        if application not in (0, APPLICATION_ID) or (application == 0 and not tables <= OUR_TABLES):
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

    def close(self) -> None:
        self._batch.close()
        self._db.close()

    def lookup(
        self, service: str, keys: Iterable[JobRef], account: str | None = None
    ) -> dict[JobRef, StoredAnswer]:
        """Stored answers of these (type, id) keys from this service (an endpoint), whatever AccessKey
        asked for them; with `account` known, never one known to belong to another account."""
        self._batch.flush()  # answers stored before are read back
        wanted = set(keys)
        found: dict[JobRef, StoredAnswer] = {}
        rows = self._db.execute(
            "SELECT job_type, job_id, body, fetched_at, final, checked_with, notes, run_id, canonical, "
            "account, judged_with, judged FROM responses WHERE endpoint=?",
            (service,),
        )
        for (
            job_type,
            job_id,
            body,
            fetched_at,
            final,
            checked,
            notes,
            run_id,
            canonical,
            owner,
            *judged,
        ) in rows:
            if (job_type, job_id) in wanted and (not account or not owner or owner == account):
                found[JobRef(job_type, job_id)] = StoredAnswer(
                    job_type,
                    job_id,
                    unpack(body),
                    fetched_at,
                    bool(final),
                    checked,
                    notes,
                    run_id,
                    bool(canonical),
                    owner,
                    *judged,
                )
        return found

    def store(self, service: str, answer: StoredAnswer) -> None:
        """Queues one answer for the next batch's commit (called from the fetch workers)."""
        row = (
            service,
            answer.job_type,
            answer.job_id,
            pack(answer.body),  # a long body compressed: fewer bytes to write, checkpoint and keep
            answer.fetched_at,
            int(answer.final),
            answer.checked_with,
            answer.notes,
            answer.run_id,
            int(answer.canonical),
            answer.account,
            answer.judged_with,
            answer.judged,
        )
        self._batch.add(row)

    def _commit_answers(self, rows: Sequence[tuple[object, ...]]) -> None:
        with self._lock:
            if self.failure is None:
                try:  # one transaction: committed whole, or rolled back whole
                    self._db.execute("BEGIN IMMEDIATE")
                    self._db.executemany(
                        "INSERT OR REPLACE INTO responses (endpoint, job_type, job_id, body, fetched_at, "
                        "final, checked_with, notes, run_id, canonical, account, judged_with, judged) "
                        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        rows,
                    )
                    self._db.execute("COMMIT")
                    return
                except sqlite3.Error as exc:
                    self.failure = str(exc)
                    if self._db.in_transaction:
                        with contextlib.suppress(sqlite3.Error):  # failing too: SQLite rolls it back
                            self._db.execute("ROLLBACK")
            self.unstored += len(rows)

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
            "SELECT account FROM accounts WHERE identity=?", (digest_identity(identity),)
        ).fetchone()
        return str(row[0]) if row else None

    def learn_account(self, identity: str, account: str | None) -> None:
        """Remembers the account of a source of credentials; None forgets it."""
        if account is None:
            self._write("DELETE FROM accounts WHERE identity=?", (digest_identity(identity),))
        else:
            self._write("INSERT OR REPLACE INTO accounts VALUES (?, ?)", (digest_identity(identity), account))

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
        self._batch.flush()  # the run's answers are all in before it is recorded as ended
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
        changes: Mapping[str, int],
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
                self._db.execute("BEGIN IMMEDIATE")
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
                self._db.execute(
                    "UPDATE runs SET changes=? WHERE run_id=?", (json.dumps(dict(changes)), run_id)
                )
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                self.failure = self.failure or str(exc)

    def rows(self, table: str) -> list[tuple[object, ...]]:
        """A whole table, runs in the order they began (for `state copy`)."""
        order = " ORDER BY rowid" if table == "runs" else ""
        rows = self._db.execute(f"SELECT {', '.join(TABLES[table])} FROM {table}{order}")
        if table != "responses":
            return list(rows)
        return [
            (*row[:BODY], unpack(row[BODY]), *row[BODY + 1 :]) for row in rows
        ]  # text, as every backend has

    def put(self, table: str, rows: Sequence[tuple[object, ...]]) -> None:
        """Rows of a table added in one transaction (for `state copy`)."""
        columns = TABLES[table]
        if table == "responses":
            rows = [(*row[:BODY], pack(str(row[BODY])), *row[BODY + 1 :]) for row in rows]
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' * len(columns))})",
                    rows,
                )
            except sqlite3.Error as exc:
                self._db.execute("ROLLBACK")
                raise UserError(f"{self.path}: cannot add to {table}: {exc}") from None
            self._db.execute("COMMIT")
