"""In-process workers: threads inside the API server (``openpika serve``, ``settings.workers``)."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time

from ..jobs.store import JobStore
from ..settings import Settings
from ..storage import FileStore
from .janitor import Janitor
from .runner import JobRunner

logger = logging.getLogger("openpika.worker")
IDLE_POLL_SECONDS = 0.1  # an idle claim is one indexed read (SQLite) or a dict scan (memory)


def worker_id(index: int) -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{index}"


def work_loop(runner: JobRunner, stop: threading.Event, idle_poll: float = IDLE_POLL_SECONDS) -> None:
    """Claim and run jobs until ``stop`` is set. A job's failure is its result; a store failure is
    logged and retried. Nothing ends this loop but ``stop``."""
    while not stop.is_set():
        try:
            if runner.run_one():
                continue
        except Exception:
            logger.exception("worker %s: unexpected error outside a job; continuing", runner.worker_id)
            stop.wait(1.0)
            continue
        stop.wait(idle_poll)


class InProcessWorkers:
    """``start_in_process_workers``'s handle. ``stop()`` lets running jobs finish (up to ``drain_timeout``);
    a job still running then is abandoned without a result and retried after its lease lapses."""

    def __init__(
        self, settings: Settings, store: JobStore, files: FileStore, count: int, *, janitor: bool = True
    ):
        self.runners = [JobRunner(settings, store, files, worker_id(i)) for i in range(count)]
        self._stop = threading.Event()
        self._threads = [
            threading.Thread(target=work_loop, args=(r, self._stop), name=f"openpika-worker-{i}", daemon=True)
            for i, r in enumerate(self.runners)
        ]
        self.janitor = Janitor(settings, store, files) if janitor else None

    def start(self) -> InProcessWorkers:
        for thread in self._threads:
            thread.start()
        if self.janitor is not None:
            self.janitor.start()
        return self

    def stop(self, drain_timeout: float = 30.0) -> None:
        self._stop.set()
        deadline = time.monotonic() + drain_timeout
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        if any(t.is_alive() for t in self._threads):
            for runner in self.runners:
                runner.abort_current()
            for thread in self._threads:
                thread.join(10.0)
        if self.janitor is not None:
            self.janitor.stop()


def start_in_process_workers(
    settings: Settings, store: JobStore, files: FileStore, count: int, *, janitor: bool = True
) -> InProcessWorkers:
    """Start ``count`` worker threads (and the janitor) against ``store``; call ``.stop()`` on shutdown."""
    return InProcessWorkers(settings, store, files, count, janitor=janitor).start()
