"""The SQLite job store's connections in WAL mode, and the thread that keeps the WAL checkpointed.

``connect`` opens one connection with the pragmas every store connection shares: a busy timeout (a
second writer waits for the lock instead of failing), WAL journaling (readers and the writer never
block each other), NORMAL sync and in-memory temporaries.

WAL checkpoints copy pages back into the database and fsync it: several ms on a shared disk. SQLite
runs them inside whichever COMMIT crosses wal_autocheckpoint pages, which put 4-16 ms stalls on
submits. A background thread per store (``Checkpointer``) checkpoints (PASSIVE: never waits for, nor
blocks, readers or writers) every CHECKPOINT_SECONDS instead; the automatic one stays as a safety net
far above what the thread lets the WAL reach, so the WAL stays bounded if the thread falls behind.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

BUSY_TIMEOUT_MS = 30_000
CHECKPOINT_SECONDS = 1.0
AUTOCHECKPOINT_PAGES = 20_000  # ~80 MB of WAL with 4 KiB pages


def connect(path: Path) -> sqlite3.Connection:
    """A store connection (rows as ``sqlite3.Row``); usable from one thread at a time."""
    # isolation_level=None: the store issues BEGIN IMMEDIATE itself; plain reads autocommit.
    db = sqlite3.connect(path, timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False)
    db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    db.execute("PRAGMA journal_mode = WAL")
    db.execute("PRAGMA synchronous = NORMAL")  # durable across process crashes; WAL keeps it consistent
    db.execute(f"PRAGMA wal_autocheckpoint = {AUTOCHECKPOINT_PAGES}")
    db.execute("PRAGMA temp_store = MEMORY")
    db.row_factory = sqlite3.Row
    return db


class Checkpointer:
    """One store's checkpoint thread: started at most once, and never after ``stop``."""

    def __init__(self, path: Path) -> None:
        self._path = path
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self.thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self.thread is not None or self._stop.is_set():
                return
            self.thread = threading.Thread(target=self._loop, name="openpika-sqlite-checkpoint", daemon=True)
            self.thread.start()

    def stop(self) -> None:
        """Ends the thread and waits for it (up to 5 s); later ``start`` calls do nothing."""
        self._stop.set()
        with self._lock:
            thread = self.thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)

    def _loop(self) -> None:
        db: sqlite3.Connection | None = None
        try:
            while not self._stop.wait(CHECKPOINT_SECONDS):
                try:
                    if db is None:
                        db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
                    db.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
                except sqlite3.Error:
                    pass  # busy or gone: the next round (or the automatic checkpoint) catches up
        finally:
            if db is not None:
                db.close()
