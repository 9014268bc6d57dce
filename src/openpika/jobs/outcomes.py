"""Transition rules shared by every job store, so the backends cannot drift apart.

A store loads a ``Job``, applies one of these pure functions under its own lock or transaction, and
writes the job back. The error bodies are the shapes fal's clients see (fal-protocol.md §4-§6).
"""

from __future__ import annotations

import json
from enum import Enum
from typing import Any

from .model import Job, JobError, JobStatus

CANCELLED_MESSAGE = "Request was cancelled"


def cancelled_error() -> JobError:
    """A cancelled job's answer. fal documents no status code for it; 499 ("client closed request")
    is what nginx uses for a request the caller abandoned, and it is not retried by fal's clients."""
    body = {"detail": CANCELLED_MESSAGE, "error_type": "request_cancelled"}
    return JobError(499, body, CANCELLED_MESSAGE, "request_cancelled")


def start_timeout_error() -> JobError:
    """The start deadline passed before a worker took the job (fal's ``X-Fal-Request-Timeout``).
    The ``user`` timeout type tells both official clients not to retry."""
    return JobError(
        504,
        {"detail": "Request timed out", "error_type": "request_timeout"},
        "Request timed out",
        "request_timeout",
        {"X-Fal-Request-Timeout-Type": "user", "X-Fal-Error-Type": "request_timeout"},
    )


def attempts_exhausted_error(attempts: int) -> JobError:
    """Every attempt lost its worker (crash, kill -9, out of memory) before finishing."""
    detail = (
        f"The worker running this request stopped responding {attempts} time(s) (process crashed or was "
        f"killed, e.g. out of memory); gave up after {attempts} attempt(s). Try a smaller resolution or "
        "duration, or check the worker logs."
    )
    return JobError(
        503,
        {"detail": detail, "error_type": "runner_disconnected"},
        detail,
        "runner_disconnected",
        {"X-Fal-Error-Type": "runner_disconnected"},
    )


class ClaimDecision(Enum):
    CLAIM = "claim"
    DEADLINE_PASSED = "deadline_passed"  # complete with start_timeout_error
    CANCELLED = "cancelled"  # cancel arrived while the lease was lapsing: complete as cancelled
    EXHAUSTED = "exhausted"  # complete with attempts_exhausted_error
    SKIP = "skip"  # not claimable (running with a live lease, or finished)


def claim_decision(job: Job, now: float, max_attempts: int) -> ClaimDecision:
    if job.status is JobStatus.IN_QUEUE:
        if job.start_deadline is not None and now > job.start_deadline:
            return ClaimDecision.DEADLINE_PASSED
        return ClaimDecision.CLAIM
    if (
        job.status is JobStatus.IN_PROGRESS
        and job.lease_expires_at is not None
        and job.lease_expires_at < now
    ):
        if job.cancel_requested:
            return ClaimDecision.CANCELLED
        if job.attempt >= max_attempts:
            return ClaimDecision.EXHAUSTED
        return ClaimDecision.CLAIM
    return ClaimDecision.SKIP


def take_lease(job: Job, worker_id: str, now: float, lease_seconds: float) -> None:
    job.status = JobStatus.IN_PROGRESS
    job.attempt += 1
    job.worker_id = worker_id
    job.lease_expires_at = now + lease_seconds
    if job.started_at is None:
        job.started_at = now
    job.progress = 0.0


def finish(
    job: Job, now: float, *, result: dict[str, Any] | None = None, error: JobError | None = None
) -> None:
    job.status = JobStatus.COMPLETED
    job.finished_at = now
    job.lease_expires_at = None
    job.result = result
    job.error = error
    if error is None:
        job.progress = 1.0


def owns(job: Job, attempt: int) -> bool:
    """Fencing: only the attempt currently holding the job may write to it."""
    return job.status is JobStatus.IN_PROGRESS and job.attempt == attempt


def webhook_body(job: Job) -> bytes:
    """The JSON a webhook receiver gets (fal-protocol.md §6)."""
    body: dict[str, Any] = {"request_id": job.id, "gateway_request_id": job.id}
    if job.error is None:
        body.update(status="OK", payload=job.result)
    else:
        body.update(
            status="ERROR", error=f"Invalid status code: {job.error.status_code}", payload=job.error.body
        )
    return json.dumps(body, separators=(",", ":")).encode()
