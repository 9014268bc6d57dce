"""SIGKILL worker processes mid-render, many times, at random points (issue #3, faults)."""

from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from openpika.jobs.model import JobStatus, NewJob
from openpika.jobs.store import JobStore

from .checks import assert_completed_once
from .conftest import store_for
from .harness import (
    CRASH_ENDPOINT,
    EFFECT_FRAMES,
    EFFECTS,
    WorkerPool,
    effect_input,
    kill9,
    service_env,
    start_workers,
    wait_until,
)

MAX_ATTEMPTS = 4
KILLS = 8
JOBS = 10


@pytest.fixture(scope="module")
def pool_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kills")


@pytest.fixture(scope="module")
def pool(pool_dir: Path) -> Iterator[WorkerPool]:
    env = service_env(pool_dir, max_attempts=MAX_ATTEMPTS, engine_overrides={CRASH_ENDPOINT: "fixture:crash"})
    workers = start_workers(env, count=2)
    yield workers
    workers.stop()


@pytest.fixture
def pool_store(pool_dir: Path) -> Iterator[JobStore]:
    opened = store_for(pool_dir)
    yield opened
    opened.close()


def test_sigkill_workers_mid_render_many_times(
    pool: WorkerPool, pool_store: JobStore, pool_dir: Path
) -> None:
    rng = random.Random(20260522)

    def submit(tag: str) -> str:
        return pool_store.enqueue(NewJob(EFFECTS, effect_input(0.5, tag=tag), file_base_url="http://x")).id

    ids = [submit(f"#{i}") for i in range(JOBS)]
    kills: Counter[str] = Counter()
    killed_pids: set[int] = set()
    deadline = time.monotonic() + 60
    while sum(kills.values()) < KILLS and time.monotonic() < deadline:
        jobs_now = [j for j in map(pool_store.get, ids) if j]
        if all(j.status is JobStatus.COMPLETED for j in jobs_now):
            ids.append(submit(f"#{len(ids)}"))  # keep work in flight until every kill has landed
            continue
        running = [j for j in jobs_now if j.status is JobStatus.IN_PROGRESS]
        # At most MAX_ATTEMPTS - 2 kills per job: each job must still be able to finish.
        victims = [j for j in running if kills[j.id] < MAX_ATTEMPTS - 2 and j.worker_id]
        if not victims:
            time.sleep(0.05)
            continue
        victim = rng.choice(victims)
        time.sleep(rng.uniform(0.0, 0.6))  # somewhere in prepare, render, encode or store
        now = pool_store.get(victim.id)
        if now is None or now.status is not JobStatus.IN_PROGRESS or now.attempt != victim.attempt:
            continue
        pid = int(str(victim.worker_id).split(":")[1])
        # A job whose worker we already killed stays IN_PROGRESS until its lease lapses; its
        # dead (zombie) process would "accept" another SIGKILL without anything happening.
        if pid in killed_pids:
            continue
        if kill9(pid):
            killed_pids.add(pid)
            kills[victim.id] += 1
    assert sum(kills.values()) == KILLS, "the jobs ended before every planned kill"

    def finished() -> bool:
        return all((j := pool_store.get(i)) is not None and j.status is JobStatus.COMPLETED for i in ids)

    wait_until(finished, timeout=60, what="every job to finish", interval=0.1)
    jobs = assert_completed_once(pool_store, ids, pool_dir / "files", EFFECT_FRAMES)
    assert all(job.attempt <= MAX_ATTEMPTS for job in jobs)
    # A kill can race a job's completion and hit a worker between jobs; most must cost an attempt.
    retries = sum(job.attempt - 1 for job in jobs)
    visible = [d for d in (pool_dir / "files").iterdir() if not d.name.startswith(".")]
    print(
        f"{KILLS} SIGKILLs, {retries} interrupted attempts, {len(ids)} jobs completed once each, "
        f"{len(visible) - len(jobs)} whole but unreferenced output(s) from attempts killed after storing"
    )
    assert retries >= KILLS - 2
    assert pool.process.poll() is None, "the supervisor died"
    wait_until(lambda: len(pool.worker_pids()) == 2, timeout=20, what="workers restarted")


def test_a_job_that_kills_every_worker_fails_with_a_clear_error(
    pool: WorkerPool, pool_store: JobStore
) -> None:
    crash_id = pool_store.enqueue(NewJob(CRASH_ENDPOINT, {"prompt": "boom", "duration": 1})).id
    after_id = pool_store.enqueue(NewJob(EFFECTS, effect_input(0.1), file_base_url="http://x")).id

    def done(request_id: str) -> bool:
        job = pool_store.get(request_id)
        return job is not None and job.status is JobStatus.COMPLETED

    wait_until(lambda: done(crash_id) and done(after_id), timeout=60, what="the crashing job to give up")
    crashed = pool_store.get(crash_id)
    assert crashed is not None and crashed.error is not None
    assert crashed.error.status_code == 503 and crashed.error.error_type == "runner_disconnected"
    assert f"gave up after {MAX_ATTEMPTS} attempt" in crashed.error.message
    assert crashed.attempt == MAX_ATTEMPTS  # bounded: no endless requeue loop
    survivor = pool_store.get(after_id)
    assert survivor is not None and survivor.error is None and survivor.result
    assert pool.process.poll() is None
