"""The SQLite job store's layout: schema and migrations, row <-> Job mapping, and the input cache."""

from __future__ import annotations

import copy
import json
import sqlite3
import threading
from collections import OrderedDict
from typing import Any

from .model import Job, JobError, JobStatus, Priority

SCHEMA_VERSION = 2
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- FIFO order within a priority
    id TEXT NOT NULL UNIQUE,
    endpoint_id TEXT NOT NULL,
    owner TEXT NOT NULL,
    status TEXT NOT NULL,
    priority INTEGER NOT NULL,
    created_at REAL NOT NULL,
    start_deadline REAL,
    webhook_url TEXT,
    file_base_url TEXT,
    attempt INTEGER NOT NULL DEFAULT 0,
    worker_id TEXT,
    lease_expires_at REAL,
    started_at REAL,
    finished_at REAL,
    cancel_requested INTEGER NOT NULL DEFAULT 0,
    progress REAL NOT NULL DEFAULT 0,
    result TEXT,
    error TEXT
);
CREATE INDEX IF NOT EXISTS jobs_queue ON jobs (status, priority, seq);
CREATE INDEX IF NOT EXISTS jobs_finished ON jobs (status, finished_at);
-- Inputs live apart from the job row: SQLite rewrites a whole row on any UPDATE and walks a big
-- value's overflow pages to reach the columns after it, so a 20 MB data: URI in the row would make
-- every heartbeat and status poll cost tens or hundreds of milliseconds.
CREATE TABLE IF NOT EXISTS job_inputs (
    id TEXT PRIMARY KEY,
    input TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS logs (
    request_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    message TEXT NOT NULL,
    level TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    source TEXT NOT NULL,
    PRIMARY KEY (request_id, seq)
);
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    request_id TEXT NOT NULL,
    url TEXT NOT NULL,
    body BLOB NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_due ON outbox (next_attempt_at);
"""
JOB_COLUMNS = (
    "id, endpoint_id, owner, status, priority, created_at, start_deadline, webhook_url, file_base_url, "
    "attempt, worker_id, lease_expires_at, started_at, finished_at, cancel_requested, progress, result, error"
)
MIGRATE_FROM_1 = """
CREATE TABLE job_inputs (id TEXT PRIMARY KEY, input TEXT NOT NULL);
INSERT INTO job_inputs (id, input) SELECT id, input FROM jobs;
ALTER TABLE jobs DROP COLUMN input
"""


class InputCache:
    """Parsed job inputs, least recently used first out, bounded by their JSON size. Inputs are
    immutable, so a cached entry is never stale; callers get a deep copy (strings are shared)."""

    def __init__(self, max_chars: int = 256 * 1024 * 1024, max_entries: int = 512) -> None:
        self._entries: OrderedDict[str, tuple[int, dict[str, Any]]] = OrderedDict()
        self._chars = 0
        self._max_chars, self._max_entries = max_chars, max_entries
        self._lock = threading.Lock()

    def get(self, db: sqlite3.Connection, request_id: str, *, remember: bool = True) -> dict[str, Any]:
        with self._lock:
            hit = self._entries.get(request_id)
            if hit is not None:
                self._entries.move_to_end(request_id)
                return copy.deepcopy(hit[1])
        row = db.execute("SELECT input FROM job_inputs WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            return {}
        text = row[0]
        parsed: dict[str, Any] = json.loads(text)
        with self._lock:
            if remember and request_id not in self._entries and len(text) <= self._max_chars:
                self._entries[request_id] = (len(text), parsed)
                self._chars += len(text)
                while self._chars > self._max_chars or len(self._entries) > self._max_entries:
                    _, (size, _) = self._entries.popitem(last=False)
                    self._chars -= size
        return copy.deepcopy(parsed)

    def forget(self, request_ids: list[str]) -> None:
        with self._lock:
            for request_id in request_ids:
                entry = self._entries.pop(request_id, None)
                if entry is not None:
                    self._chars -= entry[0]


def job_values(job: Job) -> tuple[Any, ...]:
    return (
        job.id,
        job.endpoint_id,
        job.owner,
        job.status.value,
        int(job.priority),
        job.created_at,
        job.start_deadline,
        job.webhook_url,
        job.file_base_url,
        job.attempt,
        job.worker_id,
        job.lease_expires_at,
        job.started_at,
        job.finished_at,
        int(job.cancel_requested),
        job.progress,
        None if job.result is None else json.dumps(job.result),
        None if job.error is None else json.dumps(job.error.to_dict()),
    )


def row_to_job(row: sqlite3.Row, job_input: dict[str, Any]) -> Job:
    return Job(
        id=row["id"],
        endpoint_id=row["endpoint_id"],
        owner=row["owner"],
        input=job_input,
        status=JobStatus(row["status"]),
        priority=Priority(row["priority"]),
        created_at=row["created_at"],
        start_deadline=row["start_deadline"],
        webhook_url=row["webhook_url"],
        file_base_url=row["file_base_url"],
        attempt=row["attempt"],
        worker_id=row["worker_id"],
        lease_expires_at=row["lease_expires_at"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        cancel_requested=bool(row["cancel_requested"]),
        progress=row["progress"],
        result=None if row["result"] is None else json.loads(row["result"]),
        error=None if row["error"] is None else JobError.from_dict(json.loads(row["error"])),
    )
