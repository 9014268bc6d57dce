"""fal's wire shapes: status bodies, error bodies, request URLs. Nothing else in openpika knows them.

See ``/work/shared/fal-protocol.md`` sections 2-5 and 9 (and ``docs/protocol.md``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import ValidationError
from starlette.responses import Response

from ..errors import InputError
from ..jobs.model import Job, JobStatus, LogEntry

BILLABLE_UNITS_HEADER = "x-fal-billable-units"
MAX_ECHOED_INPUT_CHARS = 512  # a 422 must not echo a 50 MB data URI back


class ApiError(Exception):
    """An HTTP answer in fal's shape, raised from anywhere inside a route."""

    def __init__(self, status_code: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status_code}: {body}")
        self.status_code = status_code
        self.body = body
        self.headers = headers or {}


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    content = json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
    return Response(content, status_code=status_code, headers=headers, media_type="application/json")


def path_not_found(path: str) -> ApiError:
    return ApiError(404, {"detail": f"Path {path} not found"})


def request_not_found() -> ApiError:
    return ApiError(404, {"detail": "Request not found"})


# --- validation ------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    try:
        json.dumps(value)
    except (TypeError, ValueError):
        return str(value)
    return value


def validation_detail(exc: ValidationError, prefix: tuple[str, ...] = ("body",)) -> list[dict[str, Any]]:
    """pydantic errors in FastAPI's ``detail`` shape, with ``loc`` starting at ``body``."""
    detail = []
    for error in exc.errors(include_url=False):
        item: dict[str, Any] = {
            "loc": [*prefix, *error.get("loc", ())],
            "msg": error.get("msg", ""),
            "type": error.get("type", "value_error"),
        }
        given = error.get("input")
        if given is not None and len(json.dumps(given, default=str)) <= MAX_ECHOED_INPUT_CHARS:
            item["input"] = _jsonable(given)
        if error.get("ctx"):
            item["ctx"] = {key: _jsonable(value) for key, value in error["ctx"].items()}
        detail.append(item)
    return detail


def unprocessable(detail: list[dict[str, Any]]) -> ApiError:
    """A 422 in the shape fal's SDK apps answer (and ``x-fal-billable-units: 0``)."""
    return ApiError(422, {"detail": detail}, {BILLABLE_UNITS_HEADER: "0"})


def input_error(error: InputError) -> ApiError:
    return unprocessable([error.to_detail_item()])


# --- request URLs and status bodies ------------------------------------------------------------


def owner_alias(endpoint_id: str) -> str:
    """fal's status/result/cancel URLs use the first two segments of an endpoint id only."""
    return "/".join(endpoint_id.strip("/").split("/")[:2])


def request_urls(queue_base: str, endpoint_id: str, request_id: str) -> dict[str, str]:
    response_url = f"{queue_base}/{owner_alias(endpoint_id)}/requests/{request_id}"
    return {
        "response_url": response_url,
        "status_url": response_url + "/status",
        "cancel_url": response_url + "/cancel",
    }


def submit_body(job: Job, queue_base: str, queue_position: int) -> dict[str, Any]:
    return {
        "status": JobStatus.IN_QUEUE.value,
        "request_id": job.id,
        "queue_position": queue_position,
        **request_urls(queue_base, job.endpoint_id, job.id),
        "gateway_request_id": job.id,
    }


def status_body(
    job: Job,
    queue_base: str,
    *,
    logs: list[LogEntry] | None,
    queue_position: int | None,
) -> dict[str, Any]:
    """The polling (and SSE) status JSON. ``logs`` is always present: a list when the caller asked
    for logs, else null (fal's own test asserts ``None``)."""
    body: dict[str, Any] = {
        "status": job.status.value,
        "request_id": job.id,
        **request_urls(queue_base, job.endpoint_id, job.id),
        "logs": [entry.to_fal() for entry in logs] if logs is not None else None,
    }
    if job.status is JobStatus.IN_QUEUE:
        body["queue_position"] = queue_position if queue_position is not None else 0
    elif job.status is JobStatus.IN_PROGRESS:
        body["progress"] = round(job.progress, 4)  # openpika extension; fal's clients ignore it
    else:
        inference_time = job.inference_time
        body["metrics"] = {"inference_time": inference_time} if inference_time is not None else {}
        if job.error is not None:
            body["error"] = job.error.message
            body["error_type"] = job.error.error_type
    return body


def status_code_for(job: Job) -> int:
    """202 while pending or running, 200 once COMPLETED (the SDK treats any 200 as done)."""
    return 200 if job.status is JobStatus.COMPLETED else 202


def result_response(job: Job) -> Response:
    """A finished job's result: its output, or the model's own status code, body and headers."""
    headers = {"x-fal-request-id": job.id}
    if job.error is not None:
        error_headers = {key.lower(): value for key, value in job.error.headers.items()} | headers
        if "error_type" in job.error.body or job.error.status_code >= 500:
            error_headers.setdefault("x-fal-error-type", job.error.error_type)
        return json_response(job.error.body, job.error.status_code, error_headers)
    return json_response(job.result or {}, 200, headers)
