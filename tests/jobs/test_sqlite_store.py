"""SQLite-only behaviour: durability across reopen, WAL mode, and open_store's choices."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from openpika.jobs import JobStatus, NewJob, open_store
from openpika.jobs.memory import MemoryJobStore
from openpika.jobs.redis_store import RedisJobStore
from openpika.jobs.sqlite import SQLiteJobStore
from openpika.settings import Settings


def test_jobs_survive_a_reopen_and_the_database_is_in_wal_mode(tmp_path: Path) -> None:
    path = tmp_path / "nested" / "jobs.db"
    first = SQLiteJobStore(path)
    job = first.enqueue(NewJob(endpoint_id="fal-ai/pika/v2.2/text-to-video", input={"prompt": "x"}))
    claimed = first.claim("w1", 30, 3)
    assert claimed is not None
    first.close()

    second = SQLiteJobStore(path)
    reloaded = second.get(job.id)
    assert reloaded is not None and reloaded.status is JobStatus.IN_PROGRESS and reloaded.attempt == 1
    assert second.complete(job.id, 1, {"ok": True})
    second.close()
    with sqlite3.connect(path) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_open_store_follows_settings(tmp_path: Path) -> None:
    sqlite_store = open_store(Settings(data_dir=tmp_path, job_store="sqlite"))
    try:
        assert isinstance(sqlite_store, SQLiteJobStore)
        assert sqlite_store.path == tmp_path / "jobs.db"
    finally:
        sqlite_store.close()
    assert isinstance(open_store(Settings(data_dir=tmp_path, job_store="memory")), MemoryJobStore)
    pytest.importorskip("redis")
    redis_store = open_store(
        Settings(job_store="redis", redis_url="redis://127.0.0.1:1/0")
    )  # connects lazily
    assert isinstance(redis_store, RedisJobStore)


def test_a_version_1_database_is_migrated_in_place(tmp_path: Path) -> None:
    path = tmp_path / "jobs.db"
    with sqlite3.connect(path) as raw:  # the first release's layout: the input inside the job row
        raw.executescript(
            """
            CREATE TABLE jobs (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,
                endpoint_id TEXT NOT NULL, owner TEXT NOT NULL, input TEXT NOT NULL, status TEXT NOT NULL,
                priority INTEGER NOT NULL, created_at REAL NOT NULL, start_deadline REAL, webhook_url TEXT,
                file_base_url TEXT, attempt INTEGER NOT NULL DEFAULT 0, worker_id TEXT, lease_expires_at REAL,
                started_at REAL, finished_at REAL, cancel_requested INTEGER NOT NULL DEFAULT 0,
                progress REAL NOT NULL DEFAULT 0, result TEXT, error TEXT);
            INSERT INTO jobs (id, endpoint_id, owner, input, status, priority, created_at)
                VALUES ('old-job', 'e', '', '{"prompt": "kept"}', 'IN_QUEUE', 0, 1.0);
            PRAGMA user_version = 1;
            """
        )
    raw.close()
    store = SQLiteJobStore(path)
    try:
        job = store.claim("w", 30, 3)
        assert job is not None and job.id == "old-job" and job.input == {"prompt": "kept"}
    finally:
        store.close()


def test_wal_is_checkpointed_off_the_write_path_and_close_stops_the_thread(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Commits no longer run checkpoints (the automatic threshold is far away); the store's own
    thread copies the WAL back into the database, and ``close`` ends that thread."""
    import time

    from openpika.jobs import sqlite_wal

    monkeypatch.setattr(sqlite_wal, "CHECKPOINT_SECONDS", 0.05)
    database = tmp_path / "jobs.db"
    store = SQLiteJobStore(database)
    for _ in range(20):
        store.enqueue(NewJob(endpoint_id="e", input={"prompt": "x" * 2000}))
    # Commits append to the WAL only; the database file grows when pages are checkpointed into it,
    # which with ~40 KB written (far below the automatic threshold) only the thread does.
    deadline = time.monotonic() + 5
    while database.stat().st_size < 40_000:
        assert time.monotonic() < deadline, "the WAL was not checkpointed"
        time.sleep(0.02)
    # This store's own thread: stores that other tests left open run checkpointers of the same name.
    thread = store._checkpointer.thread
    assert thread is not None and thread.is_alive() and thread.name == "openpika-sqlite-checkpoint"
    store.close()
    assert not thread.is_alive()
