"""Jobs: the record, its state machine, and the stores that persist it.

``open_store(settings)`` is how the API and the workers get a store:
- ``sqlite`` (default): ``settings.data_dir / "jobs.db"``, shared by threads and worker processes;
- ``memory``: one process only, nothing survives a restart (tests, quick demos).
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
    raise ValueError(
        f"job store {settings.job_store!r} is not implemented in this version of openpika; "
        "set OPENPIKA_JOB_STORE=sqlite (default, shared by `openpika serve` and `openpika worker` processes "
        "on one machine) or memory"
    )


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
