"""``POST /{endpoint_id}``: a queue submit on the queue listener, a synchronous run on the run
listener, and ``POST /{endpoint_id}/stream`` a streaming run (fal-protocol.md §1, §2, §9).

A synchronous run is a queued job the route waits for, so runs and queued requests share one
queue, one priority order and one set of workers. If the caller hangs up, the job is cancelled.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ..endpoints import EndpointSpec, get_endpoint
from ..jobs.model import Job, JobStatus
from .context import ApiContext, api_context
from .protocol import json_response, path_not_found, result_response, submit_body
from .queue_routes import SSE_PING, sse_event, sse_response, status_changes
from .submit import enqueue, queue_position

STREAM_SUFFIX = "/stream"


def resolve(path: str, listener: str) -> tuple[EndpointSpec, bool]:
    """The endpoint a POST path names, and whether it is a streaming run."""
    spec = get_endpoint(path)
    if spec is not None:
        return spec, False
    if listener == "run" and path.endswith(STREAM_SUFFIX):
        spec = get_endpoint(path[: -len(STREAM_SUFFIX)])
        if spec is not None:
            return spec, True
    raise path_not_found("/" + path.strip("/"))


async def post_endpoint(request: Request) -> Response:
    context = api_context(request)
    endpoint_path: str = request.path_params["endpoint_path"]
    owner = context.keys.owner(request)
    listener = request.state.listener
    spec, streaming = resolve(endpoint_path, listener)
    job = await enqueue(request, context, spec, owner)
    if listener == "queue":
        return json_response(submit_body(job, request.state.queue_base, queue_position(context, job)))
    if streaming:
        return sse_response(streaming_run(request, context, job), job.id)
    return await synchronous_run(request, context, job)


ROUTES = [Route("/{endpoint_path:path}", post_endpoint, methods=["POST"])]


def _timed_out(job: Job, seconds: float) -> Response:
    """fal's infrastructure timeout shape (the job itself is cancelled)."""
    body = {"detail": f"Request timed out after {seconds:.0f} s", "error_type": "request_timeout"}
    return json_response(body, 504, {"x-fal-error-type": "request_timeout", "x-fal-request-id": job.id})


async def synchronous_run(request: Request, context: ApiContext, job: Job) -> Response:
    """Wait for the job; answer its output or its own error. A hang-up cancels the job."""
    deadline = time.monotonic() + context.settings.sync_run_timeout
    delay = 0.02
    while True:
        current = context.read_job(job.id)
        if current is None:
            return json_response({"detail": "Request was purged before it finished"}, 410)
        if current.status is JobStatus.COMPLETED:
            return result_response(current)
        if time.monotonic() >= deadline:
            context.store.request_cancel(job.id)
            return _timed_out(job, context.settings.sync_run_timeout)
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, context.tuning.poll_interval)
        if await request.is_disconnected():
            context.store.request_cancel(job.id)
            return Response(status_code=499)


async def streaming_run(request: Request, context: ApiContext, job: Job) -> AsyncIterator[bytes]:
    """Status events while the job runs, then its output (or its error body) as the last event.
    Starlette cancels this generator when the client hangs up; the job is cancelled with it."""
    finished = False
    try:
        async for body in status_changes(context, job.id, request.state.queue_base, with_logs=True):
            if body is None:
                yield SSE_PING
                continue
            yield sse_event(body)
        final = context.read_job(job.id)
        finished = True
        if final is None:
            return
        if final.error is not None:
            yield sse_event({**final.error.body, "status_code": final.error.status_code})
        else:
            yield sse_event(final.result or {})
    finally:
        if not finished:
            context.store.request_cancel(job.id)
