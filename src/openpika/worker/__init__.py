"""Workers: claim a job, prepare its inputs, run an engine, encode, store the file, complete (fenced).

Entry points:
- ``start_in_process_workers(settings, store, files, count) -> handle``: threads inside the API server;
  ``handle.stop()`` drains them. Also starts the janitor (start deadlines, retention purge).
- ``run_worker_processes(settings, count)``: ``openpika worker``; separate processes on the shared
  SQLite store, restarted if they die, drained on SIGTERM.
"""

from __future__ import annotations

from .processes import WorkerProcessPool, run_worker_processes
from .runner import JobRunner, error_for
from .threads import InProcessWorkers, start_in_process_workers

__all__ = [
    "InProcessWorkers",
    "JobRunner",
    "WorkerProcessPool",
    "error_for",
    "run_worker_processes",
    "start_in_process_workers",
]
