"""The PostgreSQL backend of the store: one memory for every runner, answers committed in batches."""

from __future__ import annotations

import json
import threading
import zlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any, TypeVar

import psycopg
from psycopg import Connection

from audit.common.errors import UserError
from audit.common.jobtypes import JobRef
from audit.common.where import StateAt
from audit.state.batch import Batch
from audit.state.pglayout import prepare
from audit.state.pglink import Link, reason
from audit.state.store import TABLES, NoState, StoredAnswer, digest_identity

T = TypeVar("T")
ANSWERS = TABLES["responses"]
UPSERT_ANSWER = (
    f"INSERT INTO responses ({', '.join(ANSWERS)}) VALUES ({', '.join(['%s'] * len(ANSWERS))}) "
    "ON CONFLICT (endpoint, job_type, job_id) DO UPDATE SET "
    + ", ".join(f"{c}=excluded.{c}" for c in ANSWERS[3:])
)


class PostgresState:
    """The same store as the SQLite one (audit.state.sqlite), in its own schema: every change one
    transaction, so that a run killed at any moment leaves nothing half-written; a connection lost
    mid-run is made again (audit.state.pglink) and a write that still cannot be made is recorded in
    `failure`, as on SQLite, and stops the run (`on_lost`)."""

    def __init__(
        self, at: StateAt, *, read_only: bool = False, on_lost: Callable[[], None] | None = None
    ) -> None:
        self.where = at.shown
        # Told once when a write cannot be made after the reconnects: the run stops there (its reports
        # hold what was collected, marked incomplete) instead of asking on for answers it cannot keep.
        self._on_lost = on_lost
        self.failure: str | None = None
        self.unstored = 0
        self.audit = ""
        self._at = at
        self._lock = threading.Lock()
        self._batch = Batch(self._commit_answers)
        self._link = Link(at)
        try:
            if not prepare(self._link.db, at.schema, at.shown, create=not read_only):
                raise NoState(f"{at.shown}: a state that holds no run yet (schema {at.schema})")
            if read_only:
                self._link.db.execute("SET default_transaction_read_only = on")
        except psycopg.Error as exc:
            self._link.close()
            raise UserError(f"cannot open state {at.shown}: {reason(exc, at)}") from None
        except UserError:
            self._link.close()
            raise

    def close(self) -> None:
        self._batch.close()
        self._link.close()

    def _read(self, work: Callable[[Connection[Any]], T], lost: T) -> T:
        """A read, which no run can start without: its failure ends the command in one sentence. Once
        the server was given up (`failure`), `lost` stands for it: a run that stopped for that still
        writes its reports."""
        with self._lock:
            if self.failure is not None:
                return lost
            try:
                return self._link.run(work)
            except psycopg.Error as exc:
                raise UserError(f"state {self.where}: {reason(exc, self._at)}") from None

    def _change(self, work: Callable[[Connection[Any]], object]) -> bool:
        """A write, in one transaction; one that cannot be made is the run's `failure`, not its end."""
        with self._lock:
            if self.failure is not None:
                return False
            try:
                self._link.run(lambda db: _in_transaction(db, work))
            except (psycopg.Error, UserError) as exc:
                self.failure = reason(exc, self._at) if isinstance(exc, psycopg.Error) else str(exc)
                if self._on_lost is not None:
                    self._on_lost()
                return False
            return True

    def lookup(
        self, service: str, keys: Iterable[JobRef], account: str | None = None
    ) -> dict[JobRef, StoredAnswer]:
        """As State.lookup: stored answers of these keys at this service, none of another account."""
        self._batch.flush()
        wanted = set(keys)
        rows: list[tuple[Any, ...]] = self._read(
            lambda db: db.execute(
                f"SELECT {', '.join(ANSWERS[1:])} FROM responses WHERE endpoint=%s", (service,)
            ).fetchall(),
            [],
        )
        found: dict[JobRef, StoredAnswer] = {}
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
                    job_type, job_id, body, fetched_at, bool(final), checked, notes, run_id,
                    bool(canonical), owner, *judged,
                )  # fmt: skip
        return found

    def store(self, service: str, answer: StoredAnswer) -> None:
        """Queues one answer for the next batch's commit (called from the fetch workers)."""
        self._batch.add(
            (
                service, answer.job_type, answer.job_id, answer.body, answer.fetched_at, int(answer.final),
                answer.checked_with, answer.notes, answer.run_id, int(answer.canonical), answer.account,
                answer.judged_with, answer.judged,
            )
        )  # fmt: skip

    def _commit_answers(self, rows: Sequence[tuple[object, ...]]) -> None:
        # One transaction a batch, its rows pipelined: one round trip, committed whole or not at all.
        if not self._change(lambda db: db.cursor().executemany(UPSERT_ANSWER, rows)):
            self.unstored += len(rows)

    def account_of(self, identity: str) -> str | None:
        row = self._read(
            lambda db: db.execute(
                "SELECT account FROM accounts WHERE identity=%s", (digest_identity(identity),)
            ).fetchone(),
            None,
        )
        return str(row[0]) if row else None

    def learn_account(self, identity: str, account: str | None) -> None:
        key = digest_identity(identity)
        if account is None:
            self._change(lambda db: db.execute("DELETE FROM accounts WHERE identity=%s", (key,)))
        else:
            self._change(
                lambda db: db.execute(
                    "INSERT INTO accounts VALUES (%s, %s) ON CONFLICT (identity) DO UPDATE SET account=excluded.account",
                    (key, account),
                )
            )

    def begin_run(
        self, run_id: str, started_at: str, manifest_digest: str, services: str, audit: str
    ) -> None:
        self._change(
            lambda db: db.execute(
                "INSERT INTO runs (run_id, started_at, manifest_digest, endpoint, status, audit) "
                "VALUES (%s, %s, %s, %s, 'running', %s) ON CONFLICT (run_id) DO NOTHING",
                (run_id, started_at, manifest_digest, services, audit),
            )
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
        self._change(
            lambda db: db.execute(
                "UPDATE runs SET finished_at=%s, status=%s, counts=%s, calls=%s, retries=%s, throttles=%s "
                "WHERE run_id=%s",
                (finished_at, status, json.dumps(counts), calls, retries, throttles, run_id),
            )
        )

    def reported(self, run_id: str, sums: str) -> None:
        self._change(lambda db: db.execute("UPDATE runs SET sums=%s WHERE run_id=%s", (sums, run_id)))

    def last_sums(self) -> str | None:
        row = self._read(
            lambda db: db.execute(
                "SELECT sums FROM runs WHERE sums IS NOT NULL AND audit=%s ORDER BY seq DESC LIMIT 1",
                (self.audit,),
            ).fetchone(),
            None,
        )
        return str(row[0]) if row else None

    def history(self, audit: str | None = None) -> list[dict[str, object]]:
        columns = TABLES["runs"]
        where, values = ("", ()) if audit is None else (" WHERE audit=%s", (audit,))
        rows: list[tuple[Any, ...]] = self._read(
            lambda db: db.execute(
                f"SELECT {', '.join(columns)} FROM runs{where} ORDER BY seq", values
            ).fetchall(),
            [],
        )
        return [dict(zip(columns, row, strict=True)) for row in rows]

    def last_jobs(self, audit: str) -> set[JobRef] | None:
        row = self._read(
            lambda db: db.execute(
                "SELECT run_jobs.jobs FROM runs JOIN run_jobs USING (run_id) WHERE runs.audit=%s AND "
                "runs.status='complete' ORDER BY runs.seq DESC LIMIT 1",
                (audit,),
            ).fetchone(),
            None,
        )
        if row is None:
            return None
        lines = zlib.decompress(row[0]).decode().splitlines()
        return {JobRef(*line.split("\t", 2)[:2]) for line in lines if line}

    def previous_findings(self, services: Mapping[JobRef, str]) -> dict[JobRef, dict[str, str]]:
        wanted = sorted(set(services.values()))
        rows: list[tuple[Any, ...]] = self._read(
            lambda db: db.execute(
                "SELECT endpoint, job_type, job_id, findings FROM job_findings WHERE audit=%s AND "
                "endpoint = ANY(%s)",
                (self.audit, wanted),
            ).fetchall(),
            [],
        )
        found: dict[JobRef, dict[str, str]] = {}
        for service, job_type, job_id, findings in rows:
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
        """As State.remember, in one transaction."""
        listed = list(audited)
        had = set(known)
        lines = "\n".join(f"{t}\t{i}\t{o}\t{','.join(sorted(f))}" for t, i, o, f in listed)
        gone = [
            (self.audit, services[JobRef(t, i)], t, i)
            for t, i, _, f in listed
            if not f and JobRef(t, i) in had
        ]
        kept = [(self.audit, services[JobRef(t, i)], t, i, json.dumps(f)) for t, i, _, f in listed if f]

        def work(db: Connection[Any]) -> None:
            with db.cursor() as cursor:
                cursor.executemany(
                    "DELETE FROM job_findings WHERE audit=%s AND endpoint=%s AND job_type=%s AND job_id=%s",
                    gone,
                )
                cursor.executemany(
                    "INSERT INTO job_findings VALUES (%s, %s, %s, %s, %s) ON CONFLICT "
                    "(audit, endpoint, job_type, job_id) DO UPDATE SET findings=excluded.findings",
                    kept,
                )
            db.execute(
                "INSERT INTO run_jobs VALUES (%s, %s) ON CONFLICT (run_id) DO UPDATE SET jobs=excluded.jobs",
                (run_id, zlib.compress(lines.encode(), 6)),
            )
            db.execute("UPDATE runs SET changes=%s WHERE run_id=%s", (json.dumps(dict(changes)), run_id))

        self._change(work)

    def rows(self, table: str) -> list[tuple[object, ...]]:
        order = " ORDER BY seq" if table == "runs" else ""
        return self._read(
            lambda db: db.execute(f"SELECT {', '.join(TABLES[table])} FROM {table}{order}").fetchall(), []
        )

    def put(self, table: str, rows: Sequence[tuple[object, ...]]) -> None:
        columns = TABLES[table]
        statement = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(columns))})"
        with self._lock:
            try:
                self._link.run(
                    lambda db: _in_transaction(db, lambda d: d.cursor().executemany(statement, rows))
                )
            except psycopg.Error as exc:
                raise UserError(f"{self.where}: cannot add to {table}: {reason(exc, self._at)}") from None


def _in_transaction(db: Connection[Any], work: Callable[[Connection[Any]], object]) -> None:
    with db.transaction():
        work(db)
