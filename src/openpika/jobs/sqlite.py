"""The default job store: one SQLite file shared by API threads, worker threads and worker processes.

Why it is safe to share:
- WAL mode: readers (status polls every 0.1 s) never block the writer, and the writer never blocks them.
- Every read-then-write runs inside ``BEGIN IMMEDIATE``, which takes the database's write lock up front,
  so two workers can never both see a job as claimable and both take it.
- ``busy_timeout`` makes a second writer wait for the lock instead of failing at once.
- One connection per thread (sqlite3 connections must not be used by two threads at a time).
Idle workers poll ``claim``; it first looks for a candidate without the write lock, so an empty queue
costs a cheap read, not a lock. Inputs sit in their own table (see ``sqlite_layout``), so heartbeats and
status polls never touch a big data: URI. Connection pragmas and the WAL checkpoint thread: ``sqlite_wal``.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from .memory import WEBHOOK_INFLIGHT_SECONDS
from .model import CancelOutcome, Job, JobError, JobStatus, LogEntry, NewJob
from .outcomes import (
    ClaimDecision,
    attempts_exhausted_error,
    cancelled_error,
    claim_decision,
    finish,
    owns,
    start_timeout_error,
    take_lease,
    webhook_body,
)
from .sqlite_layout import (
    JOB_COLUMNS,
    MIGRATE_FROM_1,
    SCHEMA,
    SCHEMA_VERSION,
    InputCache,
    job_values,
    row_to_job,
)
from .sqlite_wal import Checkpointer, connect
from .store import Heartbeat, OutboxEntry


class SQLiteJobStore:
    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._clock = clock
        self._local = threading.local()
        self._all_connections: list[sqlite3.Connection] = []
        self._connections_lock = threading.Lock()
        self._closed = False
        self._inputs = InputCache()
        self._checkpointer = Checkpointer(self.path)  # started by the first write
        with self._write() as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version == 1:
                for statement in MIGRATE_FROM_1.split(";"):
                    db.execute(statement)
            if version < SCHEMA_VERSION:
                for statement in SCHEMA.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    # --- connections and transactions ------------------------------------------------------
    def _connection(self) -> sqlite3.Connection:
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise RuntimeError("job store is closed")
            db = connect(self.path)
            self._local.db = db
            with self._connections_lock:
                self._all_connections.append(db)
        return db

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        if self._checkpointer.thread is None:  # a store that is only read never checkpoints
            self._checkpointer.start()
        db = self._connection()
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")

    # --- submit and read -----------------------------------------------------------------
    def enqueue(self, new: NewJob) -> Job:
        now = self._clock()
        job = Job.queued(new, now)
        # Serialised before taking the write lock: the transaction holds it only for the inserts.
        values, input_json = job_values(job), json.dumps(job.input)
        with self._write() as db:
            try:
                db.execute(f"INSERT INTO jobs ({JOB_COLUMNS}) VALUES ({', '.join('?' * 18)})", values)
                db.execute("INSERT INTO job_inputs (id, input) VALUES (?, ?)", (job.id, input_json))
            except sqlite3.IntegrityError as exc:
                raise ValueError(f"request id {job.id} already exists") from exc
        return job

    def get(self, request_id: str) -> Job | None:
        job = self._load(self._connection(), request_id)
        if job is not None and _deadline_passed(job, self._clock()):
            self.expire_start_deadlines()
            job = self._load(self._connection(), request_id)
        return job

    def peek(self, request_id: str) -> Job | None:
        """``get`` without the input (``input == {}``): what status, result and cancel need."""
        job = self._load(self._connection(), request_id, with_input=False)
        if job is not None and _deadline_passed(job, self._clock()):
            self.expire_start_deadlines()
            job = self._load(self._connection(), request_id, with_input=False)
        return job

    def queue_position(self, request_id: str) -> int | None:
        db = self._connection()
        row = db.execute("SELECT status, priority, seq FROM jobs WHERE id = ?", (request_id,)).fetchone()
        if row is None or row["status"] != JobStatus.IN_QUEUE.value:
            return None
        (ahead,) = db.execute(
            "SELECT COUNT(*) FROM jobs WHERE status = ? AND (priority < ? OR (priority = ? AND seq < ?))",
            (JobStatus.IN_QUEUE.value, row["priority"], row["priority"], row["seq"]),
        ).fetchone()
        return int(ahead)

    def logs(self, request_id: str, after: int = 0) -> list[tuple[int, LogEntry]]:
        rows = self._connection().execute(
            "SELECT seq, message, level, timestamp, source FROM logs WHERE request_id = ? AND seq > ? ORDER BY seq",
            (request_id, after),
        )
        return [(r["seq"], LogEntry(r["message"], r["level"], r["timestamp"], r["source"])) for r in rows]

    # --- worker side -----------------------------------------------------------------------
    _CANDIDATES = (
        f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'IN_QUEUE' "
        "OR (status = 'IN_PROGRESS' AND lease_expires_at < ?) ORDER BY priority, seq LIMIT 50"
    )

    def claim(self, worker_id: str, lease_seconds: float, max_attempts: int) -> Job | None:
        if self._connection().execute(self._CANDIDATES, (self._clock(),)).fetchone() is None:
            return None  # the common idle case: no write lock taken
        while True:
            with self._write() as db:
                now = self._clock()
                candidates = [row_to_job(r, {}) for r in db.execute(self._CANDIDATES, (now,)).fetchall()]
                for job in candidates:
                    decision = claim_decision(job, now, max_attempts)
                    if decision is ClaimDecision.DEADLINE_PASSED:
                        self._finish(db, job, now, error=start_timeout_error())
                    elif decision is ClaimDecision.CANCELLED:
                        self._finish(db, job, now, error=cancelled_error())
                    elif decision is ClaimDecision.EXHAUSTED:
                        self._finish(db, job, now, error=attempts_exhausted_error(job.attempt))
                    elif decision is ClaimDecision.CLAIM:
                        take_lease(job, worker_id, now, lease_seconds)
                        self._save(db, job)
                        job.input = self._inputs.get(db, job.id)
                        return job
            if len(candidates) < 50:
                return None
            # A full page of expired/cancelled jobs was cleared without finding work; look again.

    def heartbeat(self, request_id: str, attempt: int, lease_seconds: float) -> Heartbeat:
        with self._write() as db:
            row = db.execute(
                "SELECT status, attempt, cancel_requested FROM jobs WHERE id = ?", (request_id,)
            ).fetchone()
            if row is None:
                return Heartbeat(alive=False, cancel_requested=False)
            cancel = bool(row["cancel_requested"])
            if row["status"] != JobStatus.IN_PROGRESS.value or row["attempt"] != attempt:
                return Heartbeat(alive=False, cancel_requested=cancel)
            db.execute(
                "UPDATE jobs SET lease_expires_at = ? WHERE id = ?",
                (self._clock() + lease_seconds, request_id),
            )
            return Heartbeat(alive=True, cancel_requested=cancel)

    def set_progress(self, request_id: str, attempt: int, fraction: float) -> bool:
        with self._write() as db:
            cursor = db.execute(
                "UPDATE jobs SET progress = ? WHERE id = ? AND attempt = ? AND status = 'IN_PROGRESS'",
                (max(0.0, min(1.0, float(fraction))), request_id, attempt),
            )
            return cursor.rowcount == 1

    def append_log(self, request_id: str, entry: LogEntry) -> None:
        with self._write() as db:
            db.execute(
                "INSERT INTO logs (request_id, seq, message, level, timestamp, source) SELECT ?, "
                "COALESCE((SELECT MAX(seq) FROM logs WHERE request_id = ?), 0) + 1, ?, ?, ?, ? "
                "WHERE EXISTS (SELECT 1 FROM jobs WHERE id = ?)",
                (
                    request_id,
                    request_id,
                    entry.message,
                    entry.level,
                    entry.timestamp,
                    entry.source,
                    request_id,
                ),
            )

    def complete(self, request_id: str, attempt: int, result: dict[str, Any]) -> bool:
        return self._finish_owned(request_id, attempt, result=result)

    def fail(self, request_id: str, attempt: int, error: JobError) -> bool:
        return self._finish_owned(request_id, attempt, error=error)

    def _finish_owned(
        self,
        request_id: str,
        attempt: int,
        *,
        result: dict[str, Any] | None = None,
        error: JobError | None = None,
    ) -> bool:
        with self._write() as db:
            job = self._load(db, request_id, with_input=False)  # a transition never rewrites the input
            if job is None or not owns(job, attempt):
                return False
            self._finish(db, job, self._clock(), result=result, error=error)
            return True

    # --- control ---------------------------------------------------------------------------
    def request_cancel(self, request_id: str) -> CancelOutcome:
        with self._write() as db:
            job = self._load(db, request_id, with_input=False)
            if job is None:
                return "NOT_FOUND"
            if job.status is JobStatus.COMPLETED:
                return "ALREADY_COMPLETED"
            if job.status is JobStatus.IN_QUEUE:
                self._finish(db, job, self._clock(), error=cancelled_error())
            else:
                db.execute("UPDATE jobs SET cancel_requested = 1 WHERE id = ?", (request_id,))
            return "CANCELLATION_REQUESTED"

    def expire_start_deadlines(self) -> list[str]:
        query = f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'IN_QUEUE' AND start_deadline < ?"
        if self._connection().execute(query, (self._clock(),)).fetchone() is None:
            return []
        with self._write() as db:
            now = self._clock()
            expired = [row_to_job(r, {}) for r in db.execute(query, (now,)).fetchall()]
            for job in expired:
                self._finish(db, job, now, error=start_timeout_error())
            return [job.id for job in expired]

    def purge_finished(self, older_than: float) -> list[Job]:
        with self._write() as db:
            rows = db.execute(
                f"SELECT {JOB_COLUMNS} FROM jobs WHERE status = 'COMPLETED' AND finished_at < ?",
                (older_than,),
            ).fetchall()
            old = [row_to_job(r, self._inputs.get(db, r["id"], remember=False)) for r in rows]
            self._inputs.forget([job.id for job in old])
            for job in old:
                db.execute("DELETE FROM jobs WHERE id = ?", (job.id,))
                db.execute("DELETE FROM job_inputs WHERE id = ?", (job.id,))
                db.execute("DELETE FROM logs WHERE request_id = ?", (job.id,))
                db.execute("DELETE FROM outbox WHERE request_id = ?", (job.id,))
            return old

    # --- webhook outbox ----------------------------------------------------------------------
    def due_webhooks(self, now: float, limit: int = 20) -> list[OutboxEntry]:
        query = "SELECT * FROM outbox WHERE next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT ?"
        if self._connection().execute(query, (now, limit)).fetchone() is None:
            return []
        with self._write() as db:
            rows = db.execute(query, (now, limit)).fetchall()
            entries = [
                OutboxEntry(
                    r["id"], r["request_id"], r["url"], bytes(r["body"]), r["attempts"], r["next_attempt_at"]
                )
                for r in rows
            ]
            # In flight: hidden from other dispatchers (other processes) until retried or done.
            db.executemany(
                "UPDATE outbox SET next_attempt_at = ? WHERE id = ?",
                [(now + WEBHOOK_INFLIGHT_SECONDS, e.id) for e in entries],
            )
            return entries

    def webhook_done(self, entry_id: int) -> None:
        with self._write() as db:
            db.execute("DELETE FROM outbox WHERE id = ?", (entry_id,))

    def webhook_retry(self, entry_id: int, next_attempt_at: float) -> None:
        with self._write() as db:
            db.execute(
                "UPDATE outbox SET attempts = attempts + 1, next_attempt_at = ? WHERE id = ?",
                (next_attempt_at, entry_id),
            )

    def close(self) -> None:
        self._closed = True
        self._checkpointer.stop()
        with self._connections_lock:
            connections, self._all_connections = self._all_connections, []
        for db in connections:
            db.close()
        self._local = threading.local()

    # --- helpers -----------------------------------------------------------------------------
    def _load(self, db: sqlite3.Connection, request_id: str, *, with_input: bool = True) -> Job | None:
        row = db.execute(f"SELECT {JOB_COLUMNS} FROM jobs WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            return None
        return row_to_job(row, self._inputs.get(db, request_id) if with_input else {})

    @staticmethod
    def _save(db: sqlite3.Connection, job: Job) -> None:
        """Write a transition (the input is immutable and lives in job_inputs)."""
        columns = JOB_COLUMNS.split(", ")[1:]
        db.execute(
            f"UPDATE jobs SET {', '.join(f'{c} = ?' for c in columns)} WHERE id = ?",
            (*job_values(job)[1:], job.id),
        )

    def _finish(
        self,
        db: sqlite3.Connection,
        job: Job,
        now: float,
        *,
        result: dict[str, Any] | None = None,
        error: JobError | None = None,
    ) -> None:
        """Every transition to COMPLETED goes through here: the job row and its webhook outbox row
        are written in the same transaction."""
        finish(job, now, result=result, error=error)
        self._save(db, job)
        if job.webhook_url:
            db.execute(
                "INSERT INTO outbox (request_id, url, body, attempts, next_attempt_at) VALUES (?, ?, ?, 0, ?)",
                (job.id, job.webhook_url, webhook_body(job), now),
            )


def _deadline_passed(job: Job, now: float) -> bool:
    return job.status is JobStatus.IN_QUEUE and job.start_deadline is not None and now > job.start_deadline
