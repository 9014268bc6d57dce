"""Housekeeping that must happen even when every worker is busy or none is running:
start deadlines (their 504 is the point) and the retention purge (jobs and their output files).
Both operations are idempotent, so several janitors (API process, worker processes) may run at once."""

from __future__ import annotations

import logging
import threading
import time

from ..jobs.store import JobStore
from ..settings import Settings
from ..storage import FileStore, keys_in_result

logger = logging.getLogger("openpika.janitor")


def purge_expired(store: JobStore, files: FileStore, ttl_seconds: float, now: float | None = None) -> int:
    """Delete finished jobs older than the retention time and their output files, then any file past its
    own expiry (outputs no job references); return how many jobs were purged."""
    now = time.time() if now is None else now
    purged = store.purge_finished(now - ttl_seconds)
    for job in purged:
        for key in keys_in_result(job.result):
            files.delete(key)
    sweep = getattr(files, "sweep_expired", None)  # optional for other FileStore implementations
    if sweep is not None:
        orphans = sweep(now)
        if orphans:
            logger.info("deleted %d expired file(s) no job referenced", orphans)
    return len(purged)


class Janitor:
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        files: FileStore,
        *,
        deadline_interval: float = 0.5,
        purge_interval: float = 60.0,
    ) -> None:
        self.settings, self.store, self.files = settings, store, files
        self.deadline_interval, self.purge_interval = deadline_interval, purge_interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="openpika-janitor", daemon=True)

    def start(self) -> Janitor:
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)

    def _run(self) -> None:
        last_purge = 0.0
        while not self._stop.is_set():
            try:
                expired = self.store.expire_start_deadlines()
                if expired:
                    logger.info("start deadline passed for %d queued job(s)", len(expired))
                if time.monotonic() - last_purge >= self.purge_interval:
                    last_purge = time.monotonic()
                    purged = purge_expired(self.store, self.files, self.settings.result_ttl_seconds)
                    if purged:
                        logger.info("purged %d finished job(s) past retention", purged)
            except Exception:
                logger.exception("janitor pass failed; retrying")
            self._stop.wait(self.deadline_interval)
