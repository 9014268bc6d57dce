"""Real worker processes on one SQLite store, killed with SIGKILL mid-job.

Leases are short (2.5 s, renewed every 0.3 s) so a dead worker's job is re-claimed quickly, with
enough slack that a loaded CI machine does not lose a live worker's lease.
"""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpika.jobs import Job, JobStatus, NewJob
from openpika.jobs.sqlite import SQLiteJobStore
from openpika.settings import Settings
from openpika.worker import WorkerProcessPool

from .conftest import T2V, t2v_input

pytestmark = pytest.mark.slow
T2V_22 = "fal-ai/pika/v2.2/text-to-video"


def settings_for(tmp_path: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "data_dir": tmp_path / "data",
        "job_store": "sqlite",
        "engine": "fixture:sleep",
        "lease_seconds": 2.5,
        "heartbeat_seconds": 0.3,
        "max_attempts": 3,
        "public_url": "http://files.test",
        **overrides,
    }
    return Settings(**values)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SQLiteJobStore]:
    db = SQLiteJobStore(tmp_path / "data" / "jobs.db")
    yield db
    db.close()


def wait_job(store: SQLiteJobStore, request_id: str, predicate: object, timeout: float) -> Job:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = store.get(request_id)
        if job is not None and callable(predicate) and predicate(job):
            return job
        time.sleep(0.05)
    raise AssertionError(f"job {request_id} did not reach the expected state: {store.get(request_id)}")


def pid_of(job: Job) -> int:
    assert job.worker_id is not None
    return int(job.worker_id.split(":")[1])  # host:pid:index


def stored_videos(tmp_path: Path) -> list[Path]:
    return [p for p in (tmp_path / "data" / "files").rglob("*.mp4")]


def test_job_of_a_killed_worker_is_retried_elsewhere_and_completed_once(
    tmp_path: Path, store: SQLiteJobStore
) -> None:
    pool = WorkerProcessPool(settings_for(tmp_path), 2, restart=False).start()
    try:
        request_id = store.enqueue(
            NewJob(endpoint_id=T2V, input=t2v_input("sleep=3"), webhook_url="https://hooks.test/done")
        ).id
        first = wait_job(store, request_id, lambda j: j.status is JobStatus.IN_PROGRESS, timeout=60)
        assert first.attempt == 1
        victim = pid_of(first)
        assert victim in pool.pids
        time.sleep(0.5)  # mid-job: the engine is sleeping
        os.kill(victim, signal.SIGKILL)

        done = wait_job(store, request_id, lambda j: j.status is JobStatus.COMPLETED, timeout=60)
        assert done.error is None, done.error
        assert done.attempt == 2
        assert pid_of(done) != victim and pid_of(done) in pool.pids
        assert done.result is not None and done.result["video"]["url"].startswith("http://files.test/files/")
        # Written exactly once: one stored file, one completion (one webhook outbox row).
        assert len(stored_videos(tmp_path)) == 1
        entries = store.due_webhooks(time.time())
        assert [e.request_id for e in entries] == [request_id]
        assert json.loads(entries[0].body)["status"] == "OK"
        messages = [e.message for _, e in store.logs(request_id)]
        assert "Retrying: attempt 2 of 3" in " ".join(messages)
        assert sum(m.startswith("Done in") for m in messages) == 1

        # SIGTERM drains: a job running when the pool stops still finishes.
        draining = store.enqueue(NewJob(endpoint_id=T2V, input=t2v_input("sleep=1"))).id
        wait_job(store, draining, lambda j: j.status is JobStatus.IN_PROGRESS, timeout=30)
        pool.stop(drain_timeout=30)
        finished = store.get(draining)
        assert finished is not None and finished.status is JobStatus.COMPLETED and finished.error is None
        assert finished.attempt == 1
    finally:
        pool.stop(drain_timeout=5)


def test_a_job_that_kills_every_worker_fails_after_max_attempts(
    tmp_path: Path, store: SQLiteJobStore
) -> None:
    settings = settings_for(
        tmp_path, max_attempts=2, engine_overrides={T2V: "fixture:crash", T2V_22: "fixture:ok"}
    )
    pool = WorkerProcessPool(settings, 2, restart=True).start()
    stop = threading.Event()

    def supervise() -> None:
        while not stop.wait(0.2):
            pool.supervise_once()

    supervisor = threading.Thread(target=supervise, daemon=True)
    supervisor.start()
    try:
        poison = store.enqueue(NewJob(endpoint_id=T2V, input=t2v_input())).id
        failed = wait_job(store, poison, lambda j: j.status is JobStatus.COMPLETED, timeout=90)
        assert failed.result is None and failed.error is not None
        assert failed.attempt == 2
        assert failed.error.status_code == 503 and failed.error.error_type == "runner_disconnected"
        assert "gave up after 2 attempt(s)" in failed.error.body["detail"]
        # The supervisor replaced the dead workers, and they serve the next request normally.
        healthy = store.enqueue(NewJob(endpoint_id=T2V_22, input=t2v_input(duration=5))).id
        done = wait_job(store, healthy, lambda j: j.status is JobStatus.COMPLETED, timeout=60)
        assert done.error is None and done.attempt == 1
        assert len(stored_videos(tmp_path)) == 1
    finally:
        stop.set()
        supervisor.join(5)
        pool.stop(drain_timeout=10)
