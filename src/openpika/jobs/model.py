"""The job record and its state machine.

States follow fal's queue: IN_QUEUE -> IN_PROGRESS -> COMPLETED. A job that fails or is cancelled
is COMPLETED with an ``error`` (that is what fal's status reports). Only a store's transition methods
change a job's state; each persists first, then the outbox (webhooks) is filled in the same
transaction.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, Literal


class JobStatus(str, Enum):  # noqa: UP042 - StrEnum would change str() of members
    IN_QUEUE = "IN_QUEUE"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"


class Priority(int, Enum):
    """Lower value is served first; FIFO within a priority."""

    NORMAL = 0
    LOW = 1

    @classmethod
    def parse(cls, value: str | None) -> Priority:
        return cls.LOW if (value or "").strip().lower() == "low" else cls.NORMAL


CancelOutcome = Literal["CANCELLATION_REQUESTED", "ALREADY_COMPLETED", "NOT_FOUND"]


def new_request_id() -> str:
    """Unguessable (128 random bits), in the UUID-like shape fal's ids have."""
    h = secrets.token_hex(16)
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


@dataclass
class JobError:
    """How a failed job answers its result call: the model's status code and body (fal passes them
    through), plus ``error``/``error_type`` for the status call and the webhook."""

    status_code: int
    body: dict[str, Any]
    message: str
    error_type: str
    headers: dict[str, str] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "status_code": self.status_code,
            "body": self.body,
            "message": self.message,
            "error_type": self.error_type,
            "headers": self.headers,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobError:
        return cls(
            status_code=int(data["status_code"]),
            body=dict(data["body"]),
            message=str(data["message"]),
            error_type=str(data["error_type"]),
            headers=dict(data.get("headers") or {}),
        )


@dataclass
class LogEntry:
    message: str
    level: str = "INFO"
    timestamp: str = ""
    source: str = "USER"

    def to_fal(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "level": self.level,
            "source": self.source,
            "timestamp": self.timestamp,
            "labels": {},
        }


@dataclass
class NewJob:
    endpoint_id: str
    input: dict[str, Any]
    owner: str = ""
    priority: Priority = Priority.NORMAL
    start_timeout: float | None = None  # seconds from submit; None: no deadline
    webhook_url: str | None = None
    # Absolute base URL (scheme://host:port) the caller used; output File urls are built on it.
    file_base_url: str | None = None
    request_id: str = field(default_factory=new_request_id)


@dataclass
class Job:
    id: str
    endpoint_id: str
    owner: str
    input: dict[str, Any]
    status: JobStatus
    priority: Priority
    created_at: float
    start_deadline: float | None = None  # absolute epoch seconds
    webhook_url: str | None = None
    file_base_url: str | None = None
    attempt: int = 0  # incremented by each claim; the fencing token
    worker_id: str | None = None
    lease_expires_at: float | None = None
    started_at: float | None = None
    finished_at: float | None = None
    cancel_requested: bool = False
    progress: float = 0.0
    result: dict[str, Any] | None = None
    error: JobError | None = None

    @classmethod
    def queued(cls, new: NewJob, now: float) -> Job:
        """The record a store writes for a submitted job: IN_QUEUE, start deadline made absolute."""
        return cls(
            id=new.request_id,
            endpoint_id=new.endpoint_id,
            owner=new.owner,
            input=new.input,
            status=JobStatus.IN_QUEUE,
            priority=new.priority,
            created_at=now,
            start_deadline=None if new.start_timeout is None else now + new.start_timeout,
            webhook_url=new.webhook_url,
            file_base_url=new.file_base_url,
        )

    @property
    def inference_time(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return max(0.0, self.finished_at - self.started_at)

    @property
    def is_finished(self) -> bool:
        return self.status is JobStatus.COMPLETED


def now() -> float:
    return time.time()
