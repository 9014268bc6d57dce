"""start_in_process_workers and the janitor: the handles the API server starts."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from openpika.engines.base import RunContext
from openpika.jobs import JobStatus, NewJob
from openpika.jobs.redis_store import RedisJobStore
from openpika.jobs.sqlite import SQLiteJobStore
from openpika.jobs.store import JobStore
from openpika.worker import start_in_process_workers
from openpika.worker.janitor import Janitor, purge_expired

from .conftest import T2V, Rig, t2v_input
from .test_runner import wait_for


def test_in_process_workers_run_jobs_in_parallel_and_stop_cleanly(rig: Rig) -> None:
    settings = rig.settings.model_copy(update={"engine": "fixture:sleep"})
    ids = [rig.submit(t2v_input("sleep=0.6")) for _ in range(4)]
    started = time.monotonic()
    handle = start_in_process_workers(settings, rig.store, rig.files, 2)
    try:
        wait_for(lambda: all(rig.job(i).status is JobStatus.COMPLETED for i in ids), timeout=30)
    finally:
        handle.stop()
    jobs = [rig.job(i) for i in ids]
    assert all(j.error is None for j in jobs)
    assert len({j.worker_id for j in jobs}) == 2  # both threads took work
    assert len(rig.stored_files()) == 4
    assert time.monotonic() - started < 20


def test_stop_abandons_a_long_job_without_writing_a_result(rig: Rig) -> None:
    settings = rig.settings.model_copy(update={"engine": "fixture:sleep"})
    request_id = rig.submit(t2v_input("sleep=60"))
    handle = start_in_process_workers(settings, rig.store, rig.files, 1, janitor=False)
    wait_for(lambda: rig.job(request_id).status is JobStatus.IN_PROGRESS)
    stop_started = time.monotonic()
    handle.stop(drain_timeout=0.3)
    assert time.monotonic() - stop_started < 5
    job = rig.job(request_id)
    # Left to its lease: another worker (after a restart) will retry it.
    assert job.status is JobStatus.IN_PROGRESS and job.error is None and job.result is None


def test_janitor_times_out_queued_jobs_past_their_start_deadline(rig: Rig) -> None:
    late = rig.submit(start_timeout=0.2)
    patient = rig.submit()
    janitor = Janitor(rig.settings, rig.store, rig.files, deadline_interval=0.05).start()
    try:
        wait_for(lambda: rig.job(late).status is JobStatus.COMPLETED, timeout=5)
    finally:
        janitor.stop()
    error = rig.job(late).error
    assert error is not None and error.status_code == 504
    assert error.headers["X-Fal-Request-Timeout-Type"] == "user"
    assert rig.job(patient).status is JobStatus.IN_QUEUE


def test_purge_deletes_old_jobs_and_their_files(rig: Rig) -> None:
    old = rig.submit()
    rig.runner().run_one()
    assert len(rig.stored_files()) == 1
    assert purge_expired(rig.store, rig.files, ttl_seconds=3600) == 0
    assert purge_expired(rig.store, rig.files, ttl_seconds=3600, now=time.time() + 7200) == 1
    assert rig.store.get(old) is None
    assert rig.stored_files() == []


def test_output_of_an_attempt_that_never_completed_expires_too(rig: Rig) -> None:
    # An attempt killed between storing its file and completing leaves a file no job points at.
    request_id = rig.submit()
    job = rig.store.claim("doomed", 30, 3)
    assert job is not None
    rig.runner()._render(job, RunContext(request_id=job.id), lambda *a: None)  # stores, never completes
    assert len(rig.stored_files()) == 1
    ttl = rig.settings.result_ttl_seconds
    assert purge_expired(rig.store, rig.files, ttl_seconds=ttl, now=time.time() + ttl) == 0
    assert len(rig.stored_files()) == 1  # still inside its grace period
    purge_expired(rig.store, rig.files, ttl_seconds=ttl, now=time.time() + ttl + 2 * 3600)
    assert rig.stored_files() == []
    assert rig.store.get(request_id) is not None  # the job itself is not finished, so it stays


@pytest.mark.parametrize("backend", ["sqlite", "redis"])
def test_workers_run_and_cancel_on_every_shared_store(rig: Rig, backend: str, tmp_path: Path) -> None:
    store: JobStore
    if backend == "redis":
        fakeredis = pytest.importorskip("fakeredis")
        store = RedisJobStore(fakeredis.FakeRedis())
    else:
        store = SQLiteJobStore(tmp_path / "jobs.db")
    settings = rig.settings.model_copy(update={"engine": "fixture:sleep", "heartbeat_seconds": 5.0})
    quick = [store.enqueue(NewJob(endpoint_id=T2V, input=t2v_input("sleep=0.1"))).id for _ in range(2)]
    slow = store.enqueue(NewJob(endpoint_id=T2V, input=t2v_input("sleep=30"))).id
    handle = start_in_process_workers(settings, store, rig.files, 2, janitor=False)
    try:
        wait_for(lambda: all(store.peek(i).status is JobStatus.COMPLETED for i in quick), timeout=30)
        wait_for(lambda: store.peek(slow).status is JobStatus.IN_PROGRESS, timeout=30)
        assert store.request_cancel(slow) == "CANCELLATION_REQUESTED"
        wait_for(lambda: store.peek(slow).status is JobStatus.COMPLETED, timeout=5)
        cancelled = store.peek(slow)
        assert cancelled is not None and cancelled.error is not None and cancelled.error.status_code == 499
    finally:
        handle.stop()
        store.close()
    assert len(rig.stored_files()) == 2
