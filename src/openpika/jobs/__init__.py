"""Jobs: the record, its state machine, and the stores that persist it.

``open_store(settings)`` is how the API and the workers get a store:
- ``sqlite`` (default): ``settings.data_dir / "jobs.db"``, shared by threads and worker processes;
- ``memory``: one process only, nothing survives a restart (tests, quick demos);
- ``redis``: ``settings.redis_url``, for workers on several machines (``pip install openpika[redis]``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .model import CancelOutcome, Job, JobError, JobStatus, LogEntry, NewJob, Priority, new_request_id
from .store import Heartbeat, JobStore, OutboxEntry

if TYPE_CHECKING:
    from ..settings import Settings


def open_store(settings: Settings) -> JobStore:
    if settings.job_store == "sqlite":
        from .sqlite import SQLiteJobStore

        return SQLiteJobStore(settings.data_dir / "jobs.db")
    if settings.job_store == "memory":
        from .memory import MemoryJobStore

        return MemoryJobStore()
    if settings.job_store == "redis":
        from .redis_store import RedisJobStore

        return RedisJobStore.from_url(settings.redis_url)
    raise ValueError(f"unknown job store {settings.job_store!r}; use sqlite (default), memory or redis")


__all__ = [
    "CancelOutcome",
    "Heartbeat",
    "Job",
    "JobError",
    "JobStatus",
    "JobStore",
    "LogEntry",
    "NewJob",
    "OutboxEntry",
    "Priority",
    "new_request_id",
    "open_store",
]
