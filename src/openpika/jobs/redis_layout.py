"""The Redis job store's layout: its keys, the queue's ordering score, and Job <-> JSON state.

Keys (``prefix`` defaults to ``openpika:``):
  job:{id} (JSON state)   input:{id} (JSON input, immutable)   logs:{id} (list; seq = position)
  queued (zset: priority * 2^40 + seq)   running (zset: lease expiry)   deadlines (zset: start deadline)
  finished (zset: finish time)   outbox (hash id -> entry)   outbox:due (zset)   outbox:of:{id} (set)
"""

from __future__ import annotations

import json
from typing import Any

from .model import Job, JobError, JobStatus, Priority

SEQ_SPAN = 2**40  # FIFO sequence numbers per priority band in the queued zset's score
STATE_FIELDS = [
    "id",
    "endpoint_id",
    "owner",
    "created_at",
    "start_deadline",
    "webhook_url",
    "file_base_url",
    "attempt",
    "worker_id",
    "lease_expires_at",
    "started_at",
    "finished_at",
    "cancel_requested",
    "progress",
    "result",
]


def queued_score(priority: Priority, seq: int) -> int:
    """The job's score in the queued zset: best priority first, then submission order."""
    return int(priority) * SEQ_SPAN + seq


def dump_state(job: Job, seq: int) -> bytes:
    """The job:{id} value: everything but the input, plus the job's queue sequence number."""
    state: dict[str, Any] = {name: getattr(job, name) for name in STATE_FIELDS}
    state.update(seq=seq, status=job.status.value, priority=int(job.priority))
    state["error"] = None if job.error is None else job.error.to_dict()
    return json.dumps(state).encode()


def load_state(raw: bytes, job_input: dict[str, Any]) -> tuple[Job, int]:
    """The job and its queue sequence number from a job:{id} value."""
    state = json.loads(raw)
    seq = int(state.pop("seq"))
    state["status"] = JobStatus(state["status"])
    state["priority"] = Priority(state["priority"])
    state["error"] = None if state["error"] is None else JobError.from_dict(state["error"])
    return Job(input=job_input, **state), seq
