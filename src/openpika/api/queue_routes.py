"""The queue's request routes: status, status stream, result, cancel (fal-protocol.md §3-5).

URLs use the endpoint's owner/alias only: ``/{owner}/{alias}/requests/{id}[/status[/stream]|/cancel]``.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response, StreamingResponse
from starlette.routing import Route

from ..jobs.model import Job, JobStatus, LogEntry
from .context import ApiContext, api_context
from .protocol import ApiError, json_response, result_response, status_body, status_code_for

REQUEST_PATH = "/{owner}/{alias}/requests/{request_id}"
CANCEL_CODES = {"CANCELLATION_REQUESTED": 202, "ALREADY_COMPLETED": 400, "NOT_FOUND": 404}


def wants_logs(request: Request) -> bool:
    """PY sends ``logs=true|false``, JS and the SDK ``logs=1|0``."""
    return request.query_params.get("logs", "").strip().lower() in ("1", "true", "yes", "on")


def current_status(
    context: ApiContext, job: Job, queue_base: str, logs: list[LogEntry] | None
) -> dict[str, Any]:
    position = context.queue_position(job.id) if job.status is JobStatus.IN_QUEUE else None
    return status_body(job, queue_base, logs=logs, queue_position=position)


async def get_status(request: Request) -> Response:
    context = api_context(request)
    job = context.find_job(request)
    logs = [entry for _, entry in context.store.logs(job.id)] if wants_logs(request) else None
    body = current_status(context, job, request.state.queue_base, logs)
    return json_response(body, status_code_for(job))


async def stream_status(request: Request) -> Response:
    context = api_context(request)
    job = context.find_job(request)
    events = status_events(context, job.id, request.state.queue_base, wants_logs(request))
    return sse_response(events, job.id)


async def get_result(request: Request) -> Response:
    context = api_context(request)
    job = context.find_job(request)
    if not job.is_finished:
        raise ApiError(400, {"detail": "Request is still in progress"})
    return result_response(job)


async def cancel(request: Request) -> Response:
    context = api_context(request)
    job = context.find_job(request)
    outcome = context.store.request_cancel(job.id)
    return json_response({"status": outcome}, CANCEL_CODES.get(outcome, 400))


# Plain Starlette routes: FastAPI's per-request dependency solving costs more than the handlers.
ROUTES = [
    Route(REQUEST_PATH + "/status", get_status, methods=["GET"]),
    Route(REQUEST_PATH + "/status/stream", stream_status, methods=["GET"]),
    Route(REQUEST_PATH, get_result, methods=["GET"]),
    Route(REQUEST_PATH + "/cancel", cancel, methods=["PUT"]),
]


# --- server-sent events ----------------------------------------------------------------------


def sse_event(data: Any) -> bytes:
    return b"data: " + json.dumps(data, separators=(",", ":")).encode() + b"\n\n"


SSE_PING = b": ping\n\n"


def sse_response(events: AsyncIterator[bytes], request_id: str) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no", "x-fal-request-id": request_id},
    )


async def status_events(
    context: ApiContext, request_id: str, queue_base: str, with_logs: bool
) -> AsyncIterator[bytes]:
    """One ``data:`` event per change (state, queue position, progress, new log lines), each log
    entry sent once, ``: ping`` when quiet, and the stream ends right after the COMPLETED event."""
    async for body in status_changes(context, request_id, queue_base, with_logs):
        yield SSE_PING if body is None else sse_event(body)


async def status_changes(
    context: ApiContext, request_id: str, queue_base: str, with_logs: bool
) -> AsyncIterator[dict[str, Any] | None]:
    """Status bodies as they change; ``None`` means "nothing new for a ping interval"."""
    tuning = context.tuning
    log_cursor = 0
    last_key: tuple[Any, ...] | None = None
    last_sent = time.monotonic()
    while True:
        job = context.read_job(request_id)
        if job is None:  # purged meanwhile
            return
        new_logs: list[LogEntry] | None = None
        if with_logs:
            entries = context.store.logs(request_id, after=log_cursor)
            if entries:
                log_cursor = entries[-1][0]
            new_logs = [entry for _, entry in entries]
        body = current_status(context, job, queue_base, new_logs)
        key = (job.status, body.get("queue_position"), body.get("progress"))
        if key != last_key or new_logs:
            last_key = key
            last_sent = time.monotonic()
            yield body
            if job.is_finished:
                return
        elif time.monotonic() - last_sent >= tuning.sse_ping_interval:
            last_sent = time.monotonic()
            yield None
        await asyncio.sleep(tuning.poll_interval)
