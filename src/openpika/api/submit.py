"""Turning ``POST /{endpoint_id}`` into a queued job (shared by the queue and run listeners).

The body is validated with the endpoint's own pydantic model now, so schema errors are immediate
422s; media URLs are fetched later by the worker, and their errors become the job's 422 result.
"""

from __future__ import annotations

import asyncio
import json
import math
from typing import Any
from urllib.parse import urlsplit

from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request

from ..endpoints import EndpointSpec
from ..jobs.model import Job, NewJob, Priority
from ..settings import Settings
from .context import ApiContext
from .protocol import ApiError, unprocessable, validation_detail

START_TIMEOUT_HEADERS = ("x-fal-request-start-timeout", "x-fal-request-timeout")  # the newer one wins
PRIORITY_HEADER = "x-fal-queue-priority"
# Bodies above this are parsed and stored off the event loop so status polls stay fast. Small ones
# are stored on the loop: measured, a thread hop per submit made concurrent submits contend for
# SQLite's write lock (busy-handler sleeps) and raised submit p50 from ~1 ms to ~30 ms.
THREADPOOL_BODY_BYTES = 256 * 1024
WEBHOOK_PARAM = "fal_webhook"
MAX_JSON_DEPTH = 64
WEBHOOK_CHECK_SECONDS = 3.0  # the most a submit waits for the webhook host's DNS answer


async def read_body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise _too_large(limit)
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


def _too_large(limit: int) -> ApiError:
    return ApiError(413, {"detail": f"Request body is larger than {limit} bytes; upload big files first."})


def parse_json_object(raw: bytes) -> dict[str, Any]:
    if not raw.strip():
        raw = b"{}"
    try:
        data = json.loads(raw)
        _refuse_deep_nesting(raw, data)
        _refuse_lone_surrogates(raw, data)
    # RecursionError: nesting deeper than the interpreter's stack; ValueError covers integer literals
    # over sys.int_info.default_max_str_digits (JSONDecodeError is a ValueError too).
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise _json_invalid(str(exc)) from exc
    if not isinstance(data, dict):
        raise unprocessable(
            [{"loc": ["body"], "msg": "Input should be a valid dictionary", "type": "dict_type"}]
        )
    return data


def _json_invalid(why: str) -> ApiError:
    return unprocessable([{"loc": ["body"], "msg": f"JSON decode error: {why}", "type": "json_invalid"}])


def _refuse_deep_nesting(raw: bytes, data: Any) -> None:
    """Inputs are shallow (at most ~3 levels); a body nested deeper than MAX_JSON_DEPTH is refused,
    because later steps (pydantic, json.dumps when storing, copies) recurse and would hit Python's
    recursion limit (a 500) well below the depth ``json.loads`` itself accepts. Bodies with fewer
    brackets than the limit (counted in C) cannot be too deep and skip the walk."""
    if raw.count(b"[") + raw.count(b"{") <= MAX_JSON_DEPTH:
        return
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        children = value.values() if isinstance(value, dict) else value if isinstance(value, list) else ()
        for child in children:
            if isinstance(child, dict | list):
                if depth + 1 > MAX_JSON_DEPTH:
                    raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
                stack.append((child, depth + 1))


def _refuse_lone_surrogates(raw: bytes, data: Any) -> None:
    """A ``\\ud800`` escape without its pair is valid JSON for Python but not encodable as UTF-8,
    so it would fail later (storing, echoing). Only bodies holding a surrogate escape pay for the
    exact check (re-encoding the decoded value as UTF-8 is strict about unpaired surrogates)."""
    if b"\\ud" not in raw and b"\\uD" not in raw:
        return
    try:
        json.dumps(data, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError("a string holds a lone surrogate escape (not valid UTF-8)") from exc


def validate_input(spec: EndpointSpec, data: dict[str, Any]) -> None:
    try:
        spec.input_model.model_validate(data)
    except ValidationError as exc:
        raise unprocessable(validation_detail(exc)) from exc


def start_timeout(request: Request, default: float | None) -> float | None:
    for name in START_TIMEOUT_HEADERS:
        value = request.headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            seconds = math.nan
        if not math.isfinite(seconds) or seconds <= 0:
            raise unprocessable(
                [
                    {
                        "loc": ["header", name],
                        "msg": "must be a positive number of seconds",
                        "type": "value_error",
                    }
                ]
            )
        return seconds
    return default


def queue_priority(request: Request) -> Priority:
    """``normal`` (the default) or ``low``: the only values fal's clients send (the JS client always
    sends one, the Python client only when asked); anything else is a 422 as documented."""
    value = request.headers.get(PRIORITY_HEADER)
    if value is None or value.strip().lower() in ("normal", "low"):
        return Priority.parse(value)
    raise unprocessable(
        [
            {
                "loc": ["header", PRIORITY_HEADER],
                "msg": "Input should be 'normal' or 'low'",
                "type": "enum",
                "input": value,
            }
        ]
    )


def webhook_url(request: Request) -> str | None:
    url = request.query_params.get(WEBHOOK_PARAM)
    if url is None:
        return None
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise unprocessable(
            [{"loc": ["query", WEBHOOK_PARAM], "msg": "must be an http(s) URL", "type": "value_error"}]
        )
    return url


async def checked_webhook_url(request: Request, context: ApiContext) -> str | None:
    """``?fal_webhook=`` if the delivery guard would call it, else a 422 now: a private, loopback
    or metadata destination would otherwise be accepted and silently dropped at delivery. The
    allow-list (``fetch_allow_private_hosts``) applies as at delivery. Resolving the name may block,
    so it runs in a thread and is bounded; a check that overruns lets the URL through (delivery
    checks every attempt again) rather than holding the submit."""
    url = webhook_url(request)
    if url is None:
        return None
    try:
        refusal = await asyncio.wait_for(
            run_in_threadpool(_webhook_refusal, url, context.settings),
            timeout=min(WEBHOOK_CHECK_SECONDS, context.settings.fetch_timeout_seconds),
        )
    except TimeoutError:
        refusal = None
    if refusal is not None:
        raise unprocessable(
            [
                {
                    "loc": ["query", WEBHOOK_PARAM],
                    "msg": f"webhook URL refused: {refusal}",
                    "type": "value_error",
                }
            ]
        )
    return url


def _webhook_refusal(url: str, settings: Settings) -> str | None:
    """Why the guard refuses ``url`` as a webhook destination, or None. A name that does not
    resolve *now* is let through: DNS may be down for a moment or the name not published yet, and
    delivery resolves and checks it again anyway; what is refused is what can never be called."""
    from ..inputs import DestinationRefused, addresses, check_destination

    try:
        check_destination(url, settings)
    except DestinationRefused as refused:
        host = urlsplit(url).hostname or ""
        if isinstance(refused.__cause__, addresses.AddressRefused) and _unresolvable(host):
            return None
        return refused.message
    return None


def _unresolvable(host: str) -> bool:
    from ..inputs import addresses

    try:
        bare = addresses.ascii_host(host)
    except addresses.AddressRefused:
        return False  # not a valid host name: refused for good
    if addresses.parse_literal(bare) is not None:
        return False
    try:
        return not addresses.resolver(bare, 443)
    except (OSError, UnicodeError):
        return True


def _build_new_job(
    request: Request,
    context: ApiContext,
    spec: EndpointSpec,
    owner: str,
    raw: bytes,
    webhook: str | None,
) -> NewJob:
    data = parse_json_object(raw)
    validate_input(spec, data)
    return NewJob(
        endpoint_id=spec.endpoint_id,
        input=data,
        owner=owner,
        priority=queue_priority(request),
        start_timeout=start_timeout(request, context.settings.default_start_timeout),
        webhook_url=webhook,
        file_base_url=context.files_base(request),
    )


async def enqueue(request: Request, context: ApiContext, spec: EndpointSpec, owner: str) -> Job:
    """Validate the request and queue it. Raises ApiError (422/413) before anything is stored."""
    raw = await read_body(request, context.max_body_bytes)
    webhook = await checked_webhook_url(request, context)

    def build_and_store() -> Job:
        return context.store.enqueue(_build_new_job(request, context, spec, owner, raw, webhook))

    if len(raw) > THREADPOOL_BODY_BYTES:
        job = await run_in_threadpool(build_and_store)
    else:
        job = build_and_store()
    request.state.request_id = job.id
    return job


def queue_position(context: ApiContext, job: Job) -> int:
    """The position for a submit answer; never lets a store hiccup turn a queued submit into a 5xx."""
    try:
        return context.queue_position(job.id)  # cached: the first status polls reuse it
    except Exception:
        return 0
