"""A Redis job store (``OPENPIKA_JOB_STORE=redis``, ``pip install openpika[redis]``): workers on several
machines share one queue. Same semantics as the SQLite store; both pass the contract suite.

Every read-then-write is an optimistic transaction: WATCH the keys read, compute the transition with
the shared rules in ``outcomes``, write in MULTI/EXEC, and start again if a watched key changed. All
times come from this process's clock, like the other stores (keep the machines' clocks in sync).
The keys and the JSON a job is stored as: ``redis_layout``.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any, TypeVar

from .memory import WEBHOOK_INFLIGHT_SECONDS
from .model import CancelOutcome, Job, JobError, JobStatus, LogEntry, NewJob
from .outcomes import (
    ClaimDecision,
    attempts_exhausted_error,
    cancelled_error,
    claim_decision,
    finish,
    owns,
    start_timeout_error,
    take_lease,
    webhook_body,
)
from .redis_layout import dump_state, load_state, queued_score
from .store import Heartbeat, OutboxEntry

T = TypeVar("T")
_CANDIDATES = 50


class RedisJobStore:
    def __init__(
        self, client: Any, *, prefix: str = "openpika:", clock: Callable[[], float] = time.time
    ) -> None:
        self._redis = client
        self._p = prefix
        self._clock = clock

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> RedisJobStore:
        try:
            import redis
        except ImportError as exc:  # pragma: no cover - depends on the install
            raise RuntimeError(
                "OPENPIKA_JOB_STORE=redis needs the redis extra: pip install 'openpika[redis]'"
            ) from exc
        return cls(redis.Redis.from_url(url), **kwargs)

    # --- plumbing ----------------------------------------------------------------------------
    def _k(self, *parts: str) -> str:
        return self._p + ":".join(parts)

    def _transact(self, watch: list[str], body: Callable[[Any], T]) -> T:
        """Run ``body(pipe)`` (reads, then ``pipe.multi()`` and writes) until no watched key changed."""
        from redis.exceptions import WatchError

        with self._redis.pipeline() as pipe:
            while True:
                try:
                    pipe.watch(*watch)
                    result = body(pipe)
                    if pipe.explicit_transaction:
                        pipe.execute()
                    else:
                        pipe.reset()
                    return result
                except WatchError:
                    continue

    def _read(self, conn: Any, request_id: str, *, with_input: bool) -> tuple[Job, int] | None:
        raw = conn.get(self._k("job", request_id))
        if raw is None:
            return None
        job_input: dict[str, Any] = {}
        if with_input:
            raw_input = conn.get(self._k("input", request_id))
            job_input = json.loads(raw_input) if raw_input else {}
        return load_state(raw, job_input)

    def _write_state(self, pipe: Any, job: Job, seq: int) -> None:
        pipe.set(self._k("job", job.id), dump_state(job, seq))

    def _finish(self, pipe: Any, job: Job, seq: int, now: float, **outcome: Any) -> None:
        """Queue the writes of a transition to COMPLETED, with its outbox entry (same MULTI)."""
        finish(job, now, **outcome)
        self._write_state(pipe, job, seq)
        for name in ("queued", "running", "deadlines"):
            pipe.zrem(self._k(name), job.id)
        pipe.zadd(self._k("finished"), {job.id: now})
        if job.webhook_url:
            entry_id = int(self._redis.incr(self._k("outbox", "seq")))  # outside MULTI: gaps are harmless
            entry = {
                "request_id": job.id,
                "url": job.webhook_url,
                "body": webhook_body(job).decode(),
                "attempts": 0,
            }
            pipe.hset(self._k("outbox"), str(entry_id), json.dumps(entry))
            pipe.zadd(self._k("outbox", "due"), {str(entry_id): now})
            pipe.sadd(self._k("outbox", "of", job.id), str(entry_id))

    # --- submit and read -----------------------------------------------------------------
    def enqueue(self, new: NewJob) -> Job:
        now = self._clock()
        job = Job.queued(new, now)
        seq = int(self._redis.incr(self._k("seq")))

        def body(pipe: Any) -> None:
            if pipe.exists(self._k("job", job.id)):
                raise ValueError(f"request id {job.id} already exists")
            pipe.multi()
            pipe.set(self._k("input", job.id), json.dumps(job.input))
            self._write_state(pipe, job, seq)
            pipe.zadd(self._k("queued"), {job.id: queued_score(job.priority, seq)})
            if job.start_deadline is not None:
                pipe.zadd(self._k("deadlines"), {job.id: job.start_deadline})

        self._transact([self._k("job", job.id)], body)
        return job

    def get(self, request_id: str) -> Job | None:
        return self._get(request_id, with_input=True)

    def peek(self, request_id: str) -> Job | None:
        return self._get(request_id, with_input=False)

    def _get(self, request_id: str, *, with_input: bool) -> Job | None:
        found = self._read(self._redis, request_id, with_input=with_input)
        if found is None:
            return None
        job = found[0]
        if (
            job.status is JobStatus.IN_QUEUE
            and job.start_deadline is not None
            and self._clock() > job.start_deadline
        ):
            self.expire_start_deadlines()
            found = self._read(self._redis, request_id, with_input=with_input)
        return None if found is None else found[0]

    def queue_position(self, request_id: str) -> int | None:
        rank = self._redis.zrank(self._k("queued"), request_id)
        return None if rank is None else int(rank)

    def logs(self, request_id: str, after: int = 0) -> list[tuple[int, LogEntry]]:
        raw = self._redis.lrange(self._k("logs", request_id), after, -1)
        return [(after + 1 + i, LogEntry(**json.loads(item))) for i, item in enumerate(raw)]

    # --- worker side -----------------------------------------------------------------------
    def claim(self, worker_id: str, lease_seconds: float, max_attempts: int) -> Job | None:
        def body(pipe: Any) -> tuple[Job | None, bool]:
            now = self._clock()
            queued = [i.decode() for i in pipe.zrange(self._k("queued"), 0, _CANDIDATES - 1)]
            lapsed = [
                i.decode() for i in pipe.zrangebyscore(self._k("running"), "-inf", f"({now}", 0, _CANDIDATES)
            ]
            full_page = len(queued) == _CANDIDATES or len(lapsed) == _CANDIDATES
            if not queued and not lapsed:
                return None, False
            pipe.watch(*[self._k("job", i) for i in queued + lapsed])  # never overwrite a concurrent cancel
            candidates = [found for i in queued + lapsed if (found := self._read(pipe, i, with_input=False))]
            candidates.sort(key=lambda pair: (int(pair[0].priority), pair[1]))
            pipe.multi()
            for job, seq in candidates:
                decision = claim_decision(job, now, max_attempts)
                if decision is ClaimDecision.DEADLINE_PASSED:
                    self._finish(pipe, job, seq, now, error=start_timeout_error())
                elif decision is ClaimDecision.CANCELLED:
                    self._finish(pipe, job, seq, now, error=cancelled_error())
                elif decision is ClaimDecision.EXHAUSTED:
                    self._finish(pipe, job, seq, now, error=attempts_exhausted_error(job.attempt))
                elif decision is ClaimDecision.CLAIM:
                    take_lease(job, worker_id, now, lease_seconds)
                    self._write_state(pipe, job, seq)
                    pipe.zrem(self._k("queued"), job.id)
                    pipe.zrem(self._k("deadlines"), job.id)
                    pipe.zadd(self._k("running"), {job.id: job.lease_expires_at})
                    return job, False
            return None, full_page

        while True:
            job, look_again = self._transact([self._k("queued"), self._k("running")], body)
            if job is not None:
                raw_input = self._redis.get(self._k("input", job.id))
                job.input = json.loads(raw_input) if raw_input else {}
                return job
            if not look_again:  # else a full page of expired/cancelled jobs was cleared: look again
                return None

    def _owned_update(
        self, request_id: str, attempt: int, change: Callable[[Any, Job, int], None]
    ) -> Job | None:
        """Apply ``change`` to the job if ``attempt`` still owns it; the job as read, or None."""

        def body(pipe: Any) -> Job | None:
            found = self._read(pipe, request_id, with_input=False)
            if found is None or not owns(found[0], attempt):
                return found[0] if found else None
            pipe.multi()
            change(pipe, *found)
            return found[0]

        return self._transact([self._k("job", request_id)], body)

    def heartbeat(self, request_id: str, attempt: int, lease_seconds: float) -> Heartbeat:
        alive = False

        def renew(pipe: Any, job: Job, seq: int) -> None:
            nonlocal alive
            alive = True
            job.lease_expires_at = self._clock() + lease_seconds
            self._write_state(pipe, job, seq)
            pipe.zadd(self._k("running"), {job.id: job.lease_expires_at})

        job = self._owned_update(request_id, attempt, renew)
        return Heartbeat(alive=alive, cancel_requested=bool(job and job.cancel_requested))

    def set_progress(self, request_id: str, attempt: int, fraction: float) -> bool:
        done = False

        def record(pipe: Any, job: Job, seq: int) -> None:
            nonlocal done
            done = True
            job.progress = max(0.0, min(1.0, float(fraction)))
            self._write_state(pipe, job, seq)

        self._owned_update(request_id, attempt, record)
        return done

    def append_log(self, request_id: str, entry: LogEntry) -> None:
        if self._redis.exists(self._k("job", request_id)):
            self._redis.rpush(self._k("logs", request_id), json.dumps(entry.__dict__))

    def complete(self, request_id: str, attempt: int, result: dict[str, Any]) -> bool:
        return self._finish_owned(request_id, attempt, result=result)

    def fail(self, request_id: str, attempt: int, error: JobError) -> bool:
        return self._finish_owned(request_id, attempt, error=error)

    def _finish_owned(self, request_id: str, attempt: int, **outcome: Any) -> bool:
        done = False

        def record(pipe: Any, job: Job, seq: int) -> None:
            nonlocal done
            done = True
            self._finish(pipe, job, seq, self._clock(), **outcome)

        self._owned_update(request_id, attempt, record)
        return done

    # --- control ---------------------------------------------------------------------------
    def request_cancel(self, request_id: str) -> CancelOutcome:
        def body(pipe: Any) -> CancelOutcome:
            found = self._read(pipe, request_id, with_input=False)
            if found is None:
                return "NOT_FOUND"
            job, seq = found
            if job.status is JobStatus.COMPLETED:
                return "ALREADY_COMPLETED"
            pipe.multi()
            if job.status is JobStatus.IN_QUEUE:
                self._finish(pipe, job, seq, self._clock(), error=cancelled_error())
            else:
                job.cancel_requested = True
                self._write_state(pipe, job, seq)
            return "CANCELLATION_REQUESTED"

        return self._transact([self._k("job", request_id)], body)

    def expire_start_deadlines(self) -> list[str]:
        def body(pipe: Any) -> list[str]:
            now = self._clock()
            ids = [i.decode() for i in pipe.zrangebyscore(self._k("deadlines"), "-inf", f"({now}")]
            if not ids:
                return []
            pipe.watch(*[self._k("job", i) for i in ids])
            expired = [
                f
                for i in ids
                if (f := self._read(pipe, i, with_input=False)) and f[0].status is JobStatus.IN_QUEUE
            ]
            pipe.multi()
            for job, seq in expired:
                self._finish(pipe, job, seq, now, error=start_timeout_error())
            return [job.id for job, _ in expired]

        return self._transact([self._k("deadlines")], body)

    def purge_finished(self, older_than: float) -> list[Job]:
        def body(pipe: Any) -> list[Job]:
            ids = [i.decode() for i in pipe.zrangebyscore(self._k("finished"), "-inf", f"({older_than}")]
            old = [f[0] for i in ids if (f := self._read(pipe, i, with_input=True))]
            entries = {i: [e.decode() for e in pipe.smembers(self._k("outbox", "of", i))] for i in ids}
            pipe.multi()
            for request_id in ids:
                for name in ("job", "input", "logs"):
                    pipe.delete(self._k(name, request_id))
                pipe.zrem(self._k("finished"), request_id)
                for entry_id in entries[request_id]:
                    pipe.hdel(self._k("outbox"), entry_id)
                    pipe.zrem(self._k("outbox", "due"), entry_id)
                pipe.delete(self._k("outbox", "of", request_id))
            return old

        return self._transact([self._k("finished")], body)

    # --- webhook outbox ----------------------------------------------------------------------
    def due_webhooks(self, now: float, limit: int = 20) -> list[OutboxEntry]:
        def body(pipe: Any) -> list[OutboxEntry]:
            due = pipe.zrangebyscore(self._k("outbox", "due"), "-inf", now, 0, limit, withscores=True)
            entries = []
            for raw_id, score in due:
                raw = pipe.hget(self._k("outbox"), raw_id)
                if raw is not None:
                    data = json.loads(raw)
                    entries.append(
                        OutboxEntry(
                            int(raw_id),
                            data["request_id"],
                            data["url"],
                            data["body"].encode(),
                            data["attempts"],
                            score,
                        )
                    )
            pipe.multi()
            for entry in entries:  # in flight: hidden from other dispatchers until retried or done
                pipe.zadd(self._k("outbox", "due"), {str(entry.id): now + WEBHOOK_INFLIGHT_SECONDS})
            return entries

        return self._transact([self._k("outbox", "due")], body)

    def webhook_done(self, entry_id: int) -> None:
        raw = self._redis.hget(self._k("outbox"), str(entry_id))
        with self._redis.pipeline() as pipe:
            pipe.hdel(self._k("outbox"), str(entry_id))
            pipe.zrem(self._k("outbox", "due"), str(entry_id))
            if raw is not None:
                pipe.srem(self._k("outbox", "of", json.loads(raw)["request_id"]), str(entry_id))
            pipe.execute()

    def webhook_retry(self, entry_id: int, next_attempt_at: float) -> None:
        def body(pipe: Any) -> None:
            raw = pipe.hget(self._k("outbox"), str(entry_id))
            if raw is None:
                return
            data = json.loads(raw)
            data["attempts"] += 1
            pipe.multi()
            pipe.hset(self._k("outbox"), str(entry_id), json.dumps(data))
            pipe.zadd(self._k("outbox", "due"), {str(entry_id): next_attempt_at})

        self._transact([self._k("outbox")], body)

    def close(self) -> None:
        self._redis.close()
