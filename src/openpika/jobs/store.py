"""The job-store interface. Every backend (sqlite, memory, redis) implements it and passes the same
contract suite (tests/jobs/test_store_contract.py).

Concurrency rules every backend keeps:
- ``claim`` is atomic: two workers never hold the same attempt of a job.
- ``attempt`` is a fencing token: ``heartbeat``/``set_progress``/``complete``/``fail`` with a stale
  attempt (the lease expired and another worker claimed the job) change nothing and return False.
- A job whose lease expired is claimable again; after ``max_attempts`` claims it fails instead.
- Transitions to COMPLETED write the webhook outbox entry in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from .model import CancelOutcome, Job, JobError, LogEntry, NewJob


@dataclass(frozen=True)
class Heartbeat:
    alive: bool  # False: this attempt no longer owns the job (stop, write nothing)
    cancel_requested: bool


@dataclass
class OutboxEntry:
    id: int
    request_id: str
    url: str
    body: bytes
    attempts: int
    next_attempt_at: float


class JobStore(Protocol):
    # --- submit and read -----------------------------------------------------------------
    def enqueue(self, new: NewJob) -> Job: ...
    def get(self, request_id: str) -> Job | None: ...
    def peek(self, request_id: str) -> Job | None:
        """``get`` with ``input`` left empty: cheap even when the input holds a 50 MB data URI."""
        ...

    def queue_position(self, request_id: str) -> int | None:
        """0-based count of queued jobs served before this one; None if not queued."""
        ...

    def logs(self, request_id: str, after: int = 0) -> list[tuple[int, LogEntry]]:
        """Log entries with sequence numbers greater than ``after``."""
        ...

    # --- worker side -----------------------------------------------------------------------
    def claim(self, worker_id: str, lease_seconds: float, max_attempts: int) -> Job | None: ...
    def heartbeat(self, request_id: str, attempt: int, lease_seconds: float) -> Heartbeat: ...
    def set_progress(self, request_id: str, attempt: int, fraction: float) -> bool: ...
    def append_log(self, request_id: str, entry: LogEntry) -> None: ...
    def complete(self, request_id: str, attempt: int, result: dict[str, Any]) -> bool: ...
    def fail(self, request_id: str, attempt: int, error: JobError) -> bool: ...

    # --- control ---------------------------------------------------------------------------
    def request_cancel(self, request_id: str) -> CancelOutcome: ...
    def expire_start_deadlines(self) -> list[str]:
        """Complete (with a 504 user timeout) queued jobs whose start deadline passed; return their ids."""
        ...

    def purge_finished(self, older_than: float) -> list[Job]:
        """Delete jobs finished before ``older_than`` (epoch); return them so their files can go too."""
        ...

    # --- webhook outbox ----------------------------------------------------------------------
    def due_webhooks(self, now: float, limit: int = 20) -> list[OutboxEntry]: ...
    def webhook_done(self, entry_id: int) -> None: ...
    def webhook_retry(self, entry_id: int, next_attempt_at: float) -> None: ...

    def close(self) -> None: ...
