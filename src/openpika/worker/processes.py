"""Worker processes (``openpika worker``): separate processes sharing the SQLite job store.

A process can die at any time (kill -9, out-of-memory, a native crash): its job's lease lapses and
another worker re-claims it; the dead attempt's late writes are refused (attempt fencing). The
supervisor restarts dead workers. SIGTERM or SIGINT drains: each worker finishes its current job, then
exits; after ``drain_timeout`` the stragglers are killed (their jobs are retried elsewhere).
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from multiprocessing.process import BaseProcess
from types import FrameType
from typing import Any

from ..jobs.store import JobStore
from ..settings import Settings

logger = logging.getLogger("openpika.worker")
RESTART_DELAY_SECONDS = 1.0

# "spawn": each worker starts a fresh interpreter with its own store connections, never a fork of a
# process holding SQLite handles or threads.
_spawn = multiprocessing.get_context("spawn")


def worker_process_main(settings: Settings, index: int, supervisor_pid: int | None = None) -> None:
    """Entry point of one worker process. ``supervisor_pid``: leave (after the current job) once that
    process is gone. It is passed in, not read here, because the supervisor may die while this
    process is still importing."""
    from ..jobs import open_store
    from ..storage import open_file_store
    from .runner import JobRunner
    from .threads import work_loop, worker_id

    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(name)s[%(process)d] %(levelname)s %(message)s"
    )
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()  # finish the current job, then leave

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    parent = supervisor_pid if supervisor_pid is not None else os.getppid()

    def leave_with_the_parent() -> None:
        # A supervisor killed with SIGKILL cannot stop its workers; orphans finish their job and go,
        # so a restarted supervisor never ends up with twice the workers it was told to run.
        while not stop.wait(1.0):
            if os.getppid() != parent:
                logger.warning("supervisor (pid %d) is gone; stopping after the current job", parent)
                stop.set()

    threading.Thread(target=leave_with_the_parent, name="parent-watch", daemon=True).start()
    store = open_store(settings)
    try:
        runner = JobRunner(settings, store, open_file_store(settings), worker_id(index))
        work_loop(runner, stop)
    finally:
        store.close()


class WorkerProcessPool:
    def __init__(self, settings: Settings, count: int, *, restart: bool = True) -> None:
        if settings.job_store == "memory":
            raise ValueError(
                "worker processes need a shared job store; OPENPIKA_JOB_STORE=memory lives in one process"
            )
        self.settings, self.count, self.restart = settings, count, restart
        self.processes: list[BaseProcess] = []
        self._stopping = False

    def start(self) -> WorkerProcessPool:
        self.processes = [self._spawn(i) for i in range(self.count)]
        return self

    def _spawn(self, index: int) -> BaseProcess:
        process = _spawn.Process(
            target=worker_process_main,
            args=(self.settings, index, os.getpid()),
            name=f"openpika-worker-{index}",
            daemon=False,
        )
        process.start()
        logger.info("started worker process %d (pid %s)", index, process.pid)
        return process

    @property
    def pids(self) -> list[int]:
        return [p.pid for p in self.processes if p.pid is not None]

    def supervise_once(self) -> None:
        """Restart workers that died (unless stopping)."""
        for index, process in enumerate(self.processes):
            if process.is_alive() or self._stopping:
                continue
            logger.warning(
                "worker process %d (pid %s) exited with code %s", index, process.pid, process.exitcode
            )
            if self.restart:
                self.processes[index] = self._spawn(index)

    def stop(self, drain_timeout: float = 60.0) -> None:
        self._stopping = True
        for process in self.processes:
            if process.is_alive() and process.pid is not None:
                process.terminate()  # SIGTERM: drain
        deadline = time.monotonic() + drain_timeout
        for process in self.processes:
            process.join(max(0.0, deadline - time.monotonic()))
        for process in self.processes:
            if process.is_alive():
                logger.warning(
                    "worker pid %s did not drain in %.0f s; killing it", process.pid, drain_timeout
                )
                process.kill()
                process.join(5.0)


def run_worker_processes(settings: Settings, count: int, *, drain_timeout: float = 600.0) -> None:
    """``openpika worker``: run ``count`` worker processes plus the janitor and the webhook dispatcher
    until SIGTERM/SIGINT, restarting workers that die."""
    from ..jobs import open_store
    from ..storage import open_file_store
    from .janitor import Janitor

    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}
    store = open_store(settings)
    janitor = Janitor(settings, store, open_file_store(settings)).start()
    dispatcher = _start_dispatcher(settings, store)
    pool = WorkerProcessPool(settings, count).start()
    try:
        while not stop.wait(RESTART_DELAY_SECONDS):
            pool.supervise_once()
    finally:
        logger.info("stopping: letting %d worker(s) finish their current job", count)
        pool.stop(drain_timeout)
        if dispatcher is not None:
            dispatcher.stop()
        janitor.stop()
        store.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _start_dispatcher(settings: Settings, store: JobStore) -> Any:
    from ..webhooks import start_dispatcher

    return start_dispatcher(settings, store)
