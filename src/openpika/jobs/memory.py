"""An in-memory job store (``OPENPIKA_JOB_STORE=memory``): one process, thread-safe, nothing survives
a restart. Same semantics as the SQLite store; both pass tests/jobs/test_store_contract.py."""

from __future__ import annotations

import copy
import dataclasses
import itertools
import threading
import time
from collections.abc import Callable
from typing import Any

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
from .store import Heartbeat, OutboxEntry

# How long a webhook handed to a dispatcher stays invisible to other dispatchers.
WEBHOOK_INFLIGHT_SECONDS = 120.0


class MemoryJobStore:
    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.RLock()
        self._jobs: dict[str, Job] = {}
        self._order: dict[str, int] = {}  # FIFO sequence within a priority
        self._seq = itertools.count(1)
        self._logs: dict[str, list[tuple[int, LogEntry]]] = {}
        self._outbox: dict[int, OutboxEntry] = {}
        self._outbox_ids = itertools.count(1)

    # --- submit and read -----------------------------------------------------------------
    def enqueue(self, new: NewJob) -> Job:
        now = self._clock()
        job = Job.queued(new, now)
        job.input = copy.deepcopy(new.input)  # the store keeps its own copy
        with self._lock:
            if job.id in self._jobs:
                raise ValueError(f"request id {job.id} already exists")
            self._jobs[job.id] = job
            self._order[job.id] = next(self._seq)
            return copy.deepcopy(job)

    def get(self, request_id: str) -> Job | None:
        with self._lock:
            job = self._jobs.get(request_id)
            if job is not None and self._deadline_passed(job, self._clock()):
                self._finish(job, self._clock(), error=start_timeout_error())
            return copy.deepcopy(job) if job is not None else None

    def peek(self, request_id: str) -> Job | None:
        """``get`` without the input (``input == {}``): what status, result and cancel need."""
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None:
                return None
            if self._deadline_passed(job, self._clock()):
                self._finish(job, self._clock(), error=start_timeout_error())
            return copy.deepcopy(dataclasses.replace(job, input={}))

    def queue_position(self, request_id: str) -> int | None:
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None or job.status is not JobStatus.IN_QUEUE:
                return None
            key = self._sort_key(job)
            return sum(
                1
                for other in self._jobs.values()
                if other.status is JobStatus.IN_QUEUE and self._sort_key(other) < key
            )

    def logs(self, request_id: str, after: int = 0) -> list[tuple[int, LogEntry]]:
        with self._lock:
            return [(seq, copy.copy(entry)) for seq, entry in self._logs.get(request_id, []) if seq > after]

    # --- worker side -----------------------------------------------------------------------
    def claim(self, worker_id: str, lease_seconds: float, max_attempts: int) -> Job | None:
        with self._lock:
            now = self._clock()
            waiting = [job for job in self._jobs.values() if job.status is not JobStatus.COMPLETED]
            for job in sorted(waiting, key=self._sort_key):
                decision = claim_decision(job, now, max_attempts)
                if decision is ClaimDecision.DEADLINE_PASSED:
                    self._finish(job, now, error=start_timeout_error())
                elif decision is ClaimDecision.CANCELLED:
                    self._finish(job, now, error=cancelled_error())
                elif decision is ClaimDecision.EXHAUSTED:
                    self._finish(job, now, error=attempts_exhausted_error(job.attempt))
                elif decision is ClaimDecision.CLAIM:
                    take_lease(job, worker_id, now, lease_seconds)
                    return copy.deepcopy(job)
            return None

    def heartbeat(self, request_id: str, attempt: int, lease_seconds: float) -> Heartbeat:
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None or not owns(job, attempt):
                return Heartbeat(alive=False, cancel_requested=bool(job and job.cancel_requested))
            job.lease_expires_at = self._clock() + lease_seconds
            return Heartbeat(alive=True, cancel_requested=job.cancel_requested)

    def set_progress(self, request_id: str, attempt: int, fraction: float) -> bool:
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None or not owns(job, attempt):
                return False
            job.progress = max(0.0, min(1.0, float(fraction)))
            return True

    def append_log(self, request_id: str, entry: LogEntry) -> None:
        with self._lock:
            if request_id not in self._jobs:
                return
            entries = self._logs.setdefault(request_id, [])
            seq = entries[-1][0] + 1 if entries else 1
            entries.append((seq, copy.copy(entry)))

    def complete(self, request_id: str, attempt: int, result: dict[str, Any]) -> bool:
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None or not owns(job, attempt):
                return False
            self._finish(job, self._clock(), result=copy.deepcopy(result))
            return True

    def fail(self, request_id: str, attempt: int, error: JobError) -> bool:
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None or not owns(job, attempt):
                return False
            self._finish(job, self._clock(), error=copy.deepcopy(error))
            return True

    # --- control ---------------------------------------------------------------------------
    def request_cancel(self, request_id: str) -> CancelOutcome:
        with self._lock:
            job = self._jobs.get(request_id)
            if job is None:
                return "NOT_FOUND"
            if job.status is JobStatus.COMPLETED:
                return "ALREADY_COMPLETED"
            if job.status is JobStatus.IN_QUEUE:
                self._finish(job, self._clock(), error=cancelled_error())
            else:
                job.cancel_requested = True
            return "CANCELLATION_REQUESTED"

    def expire_start_deadlines(self) -> list[str]:
        with self._lock:
            now = self._clock()
            expired = [job for job in self._jobs.values() if self._deadline_passed(job, now)]
            for job in expired:
                self._finish(job, now, error=start_timeout_error())
            return [job.id for job in expired]

    def purge_finished(self, older_than: float) -> list[Job]:
        with self._lock:
            old = [
                job
                for job in self._jobs.values()
                if job.status is JobStatus.COMPLETED
                and job.finished_at is not None
                and job.finished_at < older_than
            ]
            for job in old:
                del self._jobs[job.id]
                self._order.pop(job.id, None)
                self._logs.pop(job.id, None)
                for entry_id in [e.id for e in self._outbox.values() if e.request_id == job.id]:
                    del self._outbox[entry_id]
            return old

    # --- webhook outbox ----------------------------------------------------------------------
    def due_webhooks(self, now: float, limit: int = 20) -> list[OutboxEntry]:
        with self._lock:
            due = sorted(
                (e for e in self._outbox.values() if e.next_attempt_at <= now),
                key=lambda e: (e.next_attempt_at, e.id),
            )[:limit]
            handed_out = [copy.copy(e) for e in due]
            for entry in due:  # in flight: hidden from other dispatchers until retried or done
                entry.next_attempt_at = now + WEBHOOK_INFLIGHT_SECONDS
            return handed_out

    def webhook_done(self, entry_id: int) -> None:
        with self._lock:
            self._outbox.pop(entry_id, None)

    def webhook_retry(self, entry_id: int, next_attempt_at: float) -> None:
        with self._lock:
            entry = self._outbox.get(entry_id)
            if entry is not None:
                entry.attempts += 1
                entry.next_attempt_at = next_attempt_at

    def close(self) -> None:
        pass

    # --- helpers -----------------------------------------------------------------------------
    def _sort_key(self, job: Job) -> tuple[int, int]:
        return (int(job.priority), self._order[job.id])

    @staticmethod
    def _deadline_passed(job: Job, now: float) -> bool:
        return (
            job.status is JobStatus.IN_QUEUE and job.start_deadline is not None and now > job.start_deadline
        )

    def _finish(
        self, job: Job, now: float, *, result: dict[str, Any] | None = None, error: JobError | None = None
    ) -> None:
        """Every transition to COMPLETED goes through here, so the outbox row is never forgotten."""
        finish(job, now, result=result, error=error)
        if job.webhook_url:
            entry_id = next(self._outbox_ids)
            self._outbox[entry_id] = OutboxEntry(entry_id, job.id, job.webhook_url, webhook_body(job), 0, now)
