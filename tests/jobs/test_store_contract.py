"""The job-store contract: every backend runs every test here (see conftest.BACKENDS)."""

from __future__ import annotations

import json
import threading
import time
from collections import Counter

from openpika.jobs import JobError, JobStatus, LogEntry, NewJob, Priority
from openpika.jobs.store import JobStore

from .conftest import FakeClock, StoreFactory

LEASE = 10.0


def submit(store: JobStore, priority: Priority = Priority.NORMAL, **kwargs: object) -> str:
    new = NewJob(
        endpoint_id="fal-ai/pika/v2.2/text-to-video", input={"prompt": "a cat"}, priority=priority, **kwargs
    )
    return store.enqueue(new).id


def test_enqueue_and_get_round_trip(store: JobStore, clock: FakeClock) -> None:
    new = NewJob(
        endpoint_id="fal-ai/pika/v2.2/pikaframes",
        input={"image_urls": ["data:x", "data:y"], "nested": {"a": [1, 2.5, None]}},
        owner="key-1",
        priority=Priority.LOW,
        start_timeout=20.0,
        webhook_url="https://hooks.example/x",
        file_base_url="https://pika.example:8443",
    )
    store.enqueue(new)
    job = store.get(new.request_id)
    assert job is not None
    assert job.id == new.request_id
    assert job.endpoint_id == "fal-ai/pika/v2.2/pikaframes"
    assert job.input == {"image_urls": ["data:x", "data:y"], "nested": {"a": [1, 2.5, None]}}
    assert job.owner == "key-1"
    assert job.priority is Priority.LOW
    assert job.status is JobStatus.IN_QUEUE
    assert job.created_at == clock.now
    assert job.start_deadline == clock.now + 20.0
    assert job.webhook_url == "https://hooks.example/x"
    assert job.file_base_url == "https://pika.example:8443"
    assert job.attempt == 0 and job.result is None and job.error is None
    assert store.get("no-such-id") is None


def test_duplicate_request_id_is_refused(store: JobStore) -> None:
    new = NewJob(endpoint_id="e", input={}, request_id="fixed-id")
    store.enqueue(new)
    try:
        store.enqueue(NewJob(endpoint_id="e", input={}, request_id="fixed-id"))
    except ValueError:
        return
    raise AssertionError("a second job with the same id was accepted")


def test_queue_positions_are_exact_with_priorities(store: JobStore) -> None:
    n1 = submit(store)
    l1 = submit(store, Priority.LOW)
    n2 = submit(store)
    l2 = submit(store, Priority.LOW)
    n3 = submit(store)
    assert [store.queue_position(i) for i in (n1, n2, n3, l1, l2)] == [0, 1, 2, 3, 4]
    claimed = store.claim("w1", LEASE, 3)
    assert claimed is not None and claimed.id == n1
    assert store.queue_position(n1) is None  # running: not in the queue any more
    assert [store.queue_position(i) for i in (n2, n3, l1, l2)] == [0, 1, 2, 3]
    assert store.queue_position("unknown") is None


def test_claim_order_is_priority_then_fifo(store: JobStore) -> None:
    low_first = submit(store, Priority.LOW)
    normal = [submit(store) for _ in range(3)]
    low_second = submit(store, Priority.LOW)
    order = []
    while (job := store.claim("w", LEASE, 3)) is not None:
        order.append(job.id)
        assert job.status is JobStatus.IN_PROGRESS and job.attempt == 1 and job.worker_id == "w"
    assert order == [*normal, low_first, low_second]


def test_claim_on_empty_queue_returns_none(store: JobStore) -> None:
    assert store.claim("w", LEASE, 3) is None


def test_heartbeat_keeps_the_lease_alive(store: JobStore, clock: FakeClock) -> None:
    request_id = submit(store)
    job = store.claim("w1", LEASE, 3)
    assert job is not None
    for _ in range(5):
        clock.advance(LEASE * 0.8)
        beat = store.heartbeat(request_id, job.attempt, LEASE)
        assert beat.alive and not beat.cancel_requested
    assert store.claim("w2", LEASE, 3) is None  # 4 leases of wall time later, still owned by w1


def test_expired_lease_is_reclaimed_and_the_stale_attempt_is_fenced(
    store: JobStore, clock: FakeClock
) -> None:
    request_id = submit(store)
    first = store.claim("w1", LEASE, 3)
    assert first is not None and first.attempt == 1
    clock.advance(LEASE + 0.1)
    second = store.claim("w2", LEASE, 3)
    assert second is not None and second.id == request_id
    assert second.attempt == 2 and second.worker_id == "w2"

    # The presumed-dead first worker wakes up: every write it tries is refused.
    assert store.heartbeat(request_id, 1, LEASE).alive is False
    assert store.set_progress(request_id, 1, 0.9) is False
    assert store.complete(request_id, 1, {"video": {"url": "stale"}}) is False
    assert store.fail(request_id, 1, JobError(500, {"detail": "x"}, "x", "engine_error")) is False

    assert store.set_progress(request_id, 2, 0.5) is True
    assert store.get(request_id).progress == 0.5
    assert store.complete(request_id, 2, {"video": {"url": "fresh"}}) is True
    done = store.get(request_id)
    assert done is not None and done.status is JobStatus.COMPLETED
    assert done.result == {"video": {"url": "fresh"}} and done.error is None
    assert done.attempt == 2 and done.progress == 1.0
    # Finished: no attempt may write any more, not even the one that finished it.
    assert store.complete(request_id, 2, {"video": {"url": "again"}}) is False
    assert store.get(request_id).result == {"video": {"url": "fresh"}}


def test_job_that_keeps_losing_its_worker_fails_after_max_attempts(store: JobStore, clock: FakeClock) -> None:
    request_id = submit(store)
    for attempt in (1, 2):
        job = store.claim(f"w{attempt}", LEASE, 2)
        assert job is not None and job.attempt == attempt
        clock.advance(LEASE + 1)
    assert store.claim("w3", LEASE, 2) is None
    job = store.get(request_id)
    assert job is not None and job.status is JobStatus.COMPLETED and job.result is None
    assert job.error is not None
    assert job.error.status_code == 503 and job.error.error_type == "runner_disconnected"
    assert "2 attempt" in job.error.message
    assert job.error.body["error_type"] == "runner_disconnected"


def test_fail_records_the_error(store: JobStore) -> None:
    request_id = submit(store)
    job = store.claim("w", LEASE, 3)
    assert job is not None
    error = JobError(
        422,
        {"detail": [{"loc": ["body", "image_url"], "msg": "bad", "type": "value_error"}]},
        "bad",
        "validation_error",
        {"x-fal-billable-units": "0"},
    )
    assert store.fail(request_id, job.attempt, error) is True
    done = store.get(request_id)
    assert done is not None and done.status is JobStatus.COMPLETED
    assert done.error == error and done.result is None
    assert done.finished_at is not None and done.inference_time is not None


def test_cancel_in_each_state(store: JobStore) -> None:
    assert store.request_cancel("unknown") == "NOT_FOUND"

    queued = submit(store)
    assert store.request_cancel(queued) == "CANCELLATION_REQUESTED"
    job = store.get(queued)
    assert job is not None and job.status is JobStatus.COMPLETED
    assert job.error is not None and job.error.status_code == 499
    assert job.error.body == {"detail": "Request was cancelled", "error_type": "request_cancelled"}
    assert store.claim("w", LEASE, 3) is None  # a cancelled queued job never runs
    assert store.request_cancel(queued) == "ALREADY_COMPLETED"

    running = submit(store)
    claimed = store.claim("w", LEASE, 3)
    assert claimed is not None and claimed.id == running
    assert store.heartbeat(running, 1, LEASE).cancel_requested is False
    assert store.request_cancel(running) == "CANCELLATION_REQUESTED"
    beat = store.heartbeat(running, 1, LEASE)
    assert beat.alive and beat.cancel_requested
    assert store.get(running).status is JobStatus.IN_PROGRESS

    finished = submit(store)
    job = store.claim("w", LEASE, 3)
    assert job is not None and store.complete(finished, job.attempt, {"ok": True})
    assert store.request_cancel(finished) == "ALREADY_COMPLETED"


def test_cancelled_job_whose_worker_died_is_not_rerun(store: JobStore, clock: FakeClock) -> None:
    request_id = submit(store)
    assert store.claim("w1", LEASE, 3) is not None
    store.request_cancel(request_id)
    clock.advance(LEASE + 1)
    assert store.claim("w2", LEASE, 3) is None
    job = store.get(request_id)
    assert job is not None and job.status is JobStatus.COMPLETED
    assert job.error is not None and job.error.error_type == "request_cancelled"


def test_start_deadline(store: JobStore, clock: FakeClock) -> None:
    late = submit(store, start_timeout=5.0)
    no_deadline = submit(store)
    in_time = submit(store, start_timeout=60.0)
    clock.advance(6.0)
    assert store.expire_start_deadlines() == [late]
    assert store.expire_start_deadlines() == []
    job = store.get(late)
    assert job is not None and job.status is JobStatus.COMPLETED and job.error is not None
    assert job.error.status_code == 504
    assert job.error.body == {"detail": "Request timed out", "error_type": "request_timeout"}
    assert job.error.headers == {"X-Fal-Request-Timeout-Type": "user", "X-Fal-Error-Type": "request_timeout"}
    claimed = [store.claim("w", LEASE, 3), store.claim("w", LEASE, 3), store.claim("w", LEASE, 3)]
    assert [j.id for j in claimed if j] == [no_deadline, in_time]


def test_claim_and_get_apply_the_start_deadline_without_the_janitor(
    store: JobStore, clock: FakeClock
) -> None:
    late = submit(store, start_timeout=2.0)
    polled = submit(store, start_timeout=2.0)
    ok = submit(store)
    clock.advance(3.0)
    job = store.claim("w", LEASE, 3)
    assert job is not None and job.id == ok
    assert store.get(late).error.status_code == 504
    assert store.get(polled).status is JobStatus.COMPLETED


def test_started_job_is_not_timed_out_by_its_start_deadline(store: JobStore, clock: FakeClock) -> None:
    request_id = submit(store, start_timeout=2.0)
    job = store.claim("w", LEASE, 3)
    assert job is not None
    clock.advance(5.0)
    assert store.expire_start_deadlines() == []
    assert store.complete(request_id, job.attempt, {"ok": 1})


def test_logs_keep_order_and_sequence_numbers(store: JobStore) -> None:
    a = submit(store)
    b = submit(store)
    for i in range(5):
        store.append_log(a, LogEntry(f"a{i}", "INFO", f"2026-01-01T00:00:0{i}Z"))
    store.append_log(b, LogEntry("b0", "WARN", "2026-01-01T00:00:00Z"))
    store.append_log("unknown", LogEntry("lost"))
    entries = store.logs(a)
    seqs = [seq for seq, _ in entries]
    assert [e.message for _, e in entries] == ["a0", "a1", "a2", "a3", "a4"]
    assert seqs == sorted(seqs) and len(set(seqs)) == 5
    assert [e.message for _, e in store.logs(a, after=seqs[2])] == ["a3", "a4"]
    assert store.logs(a, after=seqs[-1]) == []
    ((_, only),) = store.logs(b)
    assert (only.message, only.level, only.timestamp, only.source) == (
        "b0",
        "WARN",
        "2026-01-01T00:00:00Z",
        "USER",
    )
    assert store.logs("unknown") == []


def test_outbox_gets_the_webhook_on_success_and_is_leased_to_one_dispatcher(
    store: JobStore, clock: FakeClock
) -> None:
    hooked = submit(store, webhook_url="https://hooks.example/ok")
    silent = submit(store)
    for request_id in (hooked, silent):
        job = store.claim("w", LEASE, 3)
        assert job is not None and job.id == request_id
        store.complete(request_id, job.attempt, {"video": {"url": "u"}})
    (entry,) = store.due_webhooks(clock.now)
    assert entry.request_id == hooked and entry.url == "https://hooks.example/ok" and entry.attempts == 0
    assert json.loads(entry.body) == {
        "request_id": hooked,
        "gateway_request_id": hooked,
        "status": "OK",
        "payload": {"video": {"url": "u"}},
    }
    assert store.due_webhooks(clock.now) == []  # in flight: a second dispatcher does not get it
    store.webhook_retry(entry.id, clock.now + 30)
    assert store.due_webhooks(clock.now + 29) == []
    (again,) = store.due_webhooks(clock.now + 31)
    assert again.id == entry.id and again.attempts == 1
    store.webhook_done(entry.id)
    assert store.due_webhooks(clock.now + 10_000) == []


def test_outbox_on_failure_cancel_and_start_timeout(store: JobStore, clock: FakeClock) -> None:
    failed = submit(store, webhook_url="https://hooks.example/f")
    job = store.claim("w", LEASE, 3)
    assert job is not None
    detail = [{"loc": ["body", "image_url"], "msg": "bad", "type": "value_error"}]
    store.fail(failed, job.attempt, JobError(422, {"detail": detail}, "bad", "validation_error"))
    cancelled = submit(store, webhook_url="https://hooks.example/c")
    store.request_cancel(cancelled)
    late = submit(store, webhook_url="https://hooks.example/t", start_timeout=1.0)
    clock.advance(2)
    store.expire_start_deadlines()
    bodies = {e.request_id: json.loads(e.body) for e in store.due_webhooks(clock.now)}
    assert bodies[failed] == {
        "request_id": failed,
        "gateway_request_id": failed,
        "status": "ERROR",
        "error": "Invalid status code: 422",
        "payload": {"detail": detail},
    }
    assert bodies[cancelled]["status"] == "ERROR" and bodies[cancelled]["error"] == "Invalid status code: 499"
    assert bodies[late]["payload"] == {"detail": "Request timed out", "error_type": "request_timeout"}


def test_purge_removes_old_finished_jobs_with_their_logs_and_outbox(
    store: JobStore, clock: FakeClock
) -> None:
    old = submit(store, webhook_url="https://hooks.example/x")
    job = store.claim("w", LEASE, 3)
    assert job is not None
    store.append_log(old, LogEntry("hello"))
    store.complete(old, job.attempt, {"video": {"url": "http://h/files/k/f.mp4"}})
    finished_at = clock.now
    clock.advance(100)
    running = submit(store)
    assert store.claim("w", LEASE, 3) is not None
    queued = submit(store)

    assert store.purge_finished(finished_at) == []  # strictly older than the cut-off
    (purged,) = store.purge_finished(finished_at + 1)
    assert purged.id == old and purged.result == {"video": {"url": "http://h/files/k/f.mp4"}}
    assert store.get(old) is None and store.logs(old) == []
    assert store.due_webhooks(clock.now) == []
    assert store.get(running) is not None and store.get(queued) is not None
    assert store.purge_finished(clock.now + 10_000) == []  # unfinished jobs are never purged


def test_concurrent_claims_never_hand_out_a_job_twice(make_store: StoreFactory) -> None:
    # Real clock; for sqlite two store objects on one file stand in for two processes.
    stores = [make_store(), make_store()]
    ids = {submit(stores[0]) for _ in range(60)}
    claims: list[tuple[str, int]] = []
    lock = threading.Lock()

    def worker(store: JobStore, name: str) -> None:
        while (job := store.claim(name, 60, 3)) is not None:
            with lock:
                claims.append((job.id, job.attempt))
            store.complete(job.id, job.attempt, {"by": name})

    threads = [threading.Thread(target=worker, args=(stores[i % 2], f"w{i}")) for i in range(6)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert time.monotonic() - started < 60
    counts = Counter(request_id for request_id, _ in claims)
    assert set(counts) == ids
    assert max(counts.values()) == 1
    assert all(attempt == 1 for _, attempt in claims)
    assert all(stores[1].get(i).status is JobStatus.COMPLETED for i in ids)


def test_claimed_job_carries_its_full_input_and_callers_cannot_corrupt_it(store: JobStore) -> None:
    big = "data:image/png;base64," + "A" * 2_000_000
    request_id = store.enqueue(NewJob(endpoint_id="e", input={"image_url": big, "list": [1, 2]})).id
    polled = store.get(request_id)
    assert polled is not None
    polled.input["list"].append(3)  # a caller mutating its copy
    job = store.claim("w", LEASE, 3)
    assert job is not None and job.input == {"image_url": big, "list": [1, 2]}
    assert store.complete(request_id, job.attempt, {"ok": True})
    done = store.get(request_id)
    assert done is not None and done.input == {"image_url": big, "list": [1, 2]}


def test_peek_is_get_without_the_input(store: JobStore, clock: FakeClock) -> None:
    request_id = submit(store, start_timeout=5.0)
    peeked = store.peek(request_id)
    full = store.get(request_id)
    assert peeked is not None and full is not None
    assert peeked.input == {} and full.input == {"prompt": "a cat"}
    assert (peeked.id, peeked.status, peeked.start_deadline) == (full.id, full.status, full.start_deadline)
    assert store.peek("unknown") is None
    clock.advance(6.0)
    late = store.peek(request_id)  # the start deadline applies to peeks too
    assert late is not None and late.status is JobStatus.COMPLETED and late.error is not None
    assert late.error.status_code == 504
