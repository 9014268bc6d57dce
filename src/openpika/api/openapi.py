"""OpenAPI documents in the shape fal publishes per endpoint (queue submit, status, cancel, result),
plus one document for the whole server. Built from the endpoint registry's pydantic models, so the
documented input is exactly what submit validates."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from ..endpoints import ENDPOINTS, EndpointSpec
from .protocol import owner_alias

REF = "#/components/schemas/{model}"

_QUEUE_STATUS: dict[str, Any] = {
    "type": "object",
    "title": "QueueStatus",
    "required": ["status", "request_id"],
    "properties": {
        "status": {"type": "string", "enum": ["IN_QUEUE", "IN_PROGRESS", "COMPLETED"]},
        "request_id": {"type": "string", "description": "The request id."},
        "response_url": {"type": "string", "description": "The response url."},
        "status_url": {"type": "string", "description": "The status url."},
        "cancel_url": {"type": "string", "description": "The cancel url."},
        "gateway_request_id": {"type": "string"},
        "queue_position": {"type": "integer", "description": "0-based position while IN_QUEUE."},
        "logs": {
            "anyOf": [{"type": "array", "items": {"type": "object"}}, {"type": "null"}],
            "description": "Log entries when requested with ?logs=1, else null.",
        },
        "metrics": {"type": "object", "description": 'e.g. {"inference_time": 17.8} once COMPLETED.'},
        "error": {"type": "string", "description": "Why a COMPLETED request failed."},
        "error_type": {"type": "string"},
        "progress": {"type": "number", "description": "openpika extension: 0-1 while IN_PROGRESS."},
    },
}
_ERROR = {"type": "object", "title": "Error", "properties": {"detail": {}, "error_type": {"type": "string"}}}
_SECURITY_SCHEMES = {
    "apiKeyAuth": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "Fal Key: 'Key <your key>'",
    }
}
# OpenAPI 3.0's spelling of "> 0" (3.1 would write exclusiveMinimum: 0); submit refuses 0 and below.
_POSITIVE_SECONDS = {"type": "number", "minimum": 0, "exclusiveMinimum": True}
_REQUEST_ID = {"name": "request_id", "in": "path", "required": True, "schema": {"type": "string"}}


def _json(ref_or_schema: dict[str, Any], description: str = "Successful Response") -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref_or_schema}}}


def _ref(name: str) -> dict[str, Any]:
    return {"$ref": REF.format(model=name)}


def _error_responses() -> dict[str, Any]:
    return {
        "401": _json(_ref("Error"), "Missing or invalid API key"),
        "404": _json(_ref("Error"), "Unknown path or request"),
        "422": _json(_ref("HTTPValidationError"), "Input validation error"),
    }


def _lookup_errors() -> dict[str, Any]:
    """Routes that look a request up: 404 for an unknown id (or another key's), 401 without a key."""
    return {
        "401": _json(_ref("Error"), "Missing or invalid API key"),
        "404": _json(_ref("Error"), "Unknown request id (or one submitted with another key)"),
    }


def _schemas(specs: list[EndpointSpec]) -> tuple[dict[str, Any], dict[tuple[Any, Any], dict[str, Any]]]:
    models: list[tuple[type[BaseModel], Any]] = []
    for spec in specs:
        models += [(spec.input_model, "validation"), (spec.output_model, "serialization")]
    refs, defs = models_json_schema(list(dict.fromkeys(models)), ref_template=REF)
    schemas = dict(defs.get("$defs", {}))
    schemas["QueueStatus"] = _QUEUE_STATUS
    schemas["Error"] = _ERROR
    schemas["HTTPValidationError"] = {
        "type": "object",
        "properties": {"detail": {"type": "array", "items": {"type": "object"}}},
    }
    return schemas, dict(refs)


def _endpoint_paths(spec: EndpointSpec, refs: dict[tuple[Any, Any], dict[str, Any]]) -> dict[str, Any]:
    input_ref = refs[(spec.input_model, "validation")]
    output_ref = refs[(spec.output_model, "serialization")]
    requests = f"/{owner_alias(spec.endpoint_id)}/requests/{{request_id}}"
    tag = [spec.endpoint_id]
    logs_param = {"name": "logs", "in": "query", "required": False, "schema": {"type": "string"}}
    return {
        f"/{spec.endpoint_id}": {
            "post": {
                "tags": tag,
                "summary": spec.title,
                "description": spec.description
                + " On the queue listener this queues the request (answer: QueueStatus); on the run"
                " listener (or under /run/) it waits and answers the output.",
                "parameters": [
                    {"name": "fal_webhook", "in": "query", "required": False, "schema": {"type": "string"}},
                    {
                        "name": "X-Fal-Request-Timeout",
                        "in": "header",
                        "required": False,
                        "description": "Start deadline in seconds (X-Fal-Request-Start-Timeout wins).",
                        "schema": _POSITIVE_SECONDS,
                    },
                    {
                        "name": "X-Fal-Request-Start-Timeout",
                        "in": "header",
                        "required": False,
                        "schema": _POSITIVE_SECONDS,
                    },
                    {
                        "name": "X-Fal-Queue-Priority",
                        "in": "header",
                        "required": False,
                        "schema": {"type": "string", "enum": ["normal", "low"]},
                    },
                ],
                "requestBody": {"required": True, "content": {"application/json": {"schema": input_ref}}},
                "responses": {
                    "200": _json(_ref("QueueStatus"), "The request was queued"),
                    **_error_responses(),
                },
            }
        },
        f"{requests}/status": {
            "get": {
                "tags": tag,
                "summary": "Request status (202 while pending, 200 once COMPLETED)",
                "parameters": [_REQUEST_ID, logs_param],
                "responses": {
                    "200": _json(_ref("QueueStatus")),
                    "202": _json(_ref("QueueStatus")),
                    **_lookup_errors(),
                },
            }
        },
        f"{requests}/status/stream": {
            "get": {
                "tags": tag,
                "summary": "Server-sent status events until COMPLETED",
                "parameters": [_REQUEST_ID, logs_param],
                "responses": {
                    "200": {"description": "text/event-stream of QueueStatus JSON"},
                    **_lookup_errors(),
                },
            }
        },
        f"{requests}/cancel": {
            "put": {
                "tags": tag,
                "summary": "Cancel (202 CANCELLATION_REQUESTED, 400 ALREADY_COMPLETED, 404 NOT_FOUND)",
                "parameters": [_REQUEST_ID],
                "responses": {
                    "202": _json({"type": "object"}),
                    "400": _json({"type": "object"}),
                    **_lookup_errors(),
                },
            }
        },
        requests: {
            "get": {
                "tags": tag,
                "summary": "Result: the output, or the request's own error status and body",
                "parameters": [_REQUEST_ID],
                "responses": {"200": _json(output_ref), **_error_responses()},
            }
        },
    }


def _merge_paths(target: dict[str, Any], paths: dict[str, Any]) -> None:
    for path, operations in paths.items():
        target.setdefault(path, {}).update(operations)


def openapi_document(endpoint_id: str | None, server_url: str) -> dict[str, Any] | None:
    """The whole API, or one endpoint's document (None if the id is unknown)."""
    if endpoint_id is not None:
        spec = ENDPOINTS.get(endpoint_id.strip("/"))
        if spec is None:
            return None
        specs = [spec]
        info = {
            "title": spec.title,
            "version": "1.0.0",
            "description": spec.description,
            "x-fal-metadata": {"endpointId": spec.endpoint_id},
        }
    else:
        specs = list(ENDPOINTS.values())
        info = {
            "title": "openpika",
            "version": "0.1.0",
            "description": "Self-hosted Pika endpoints speaking fal's queue protocol.",
        }
    schemas, refs = _schemas(specs)
    paths: dict[str, Any] = {}
    for spec in specs:
        _merge_paths(paths, _endpoint_paths(spec, refs))
    if endpoint_id is None:
        _merge_paths(paths, _server_paths())
    return {
        "openapi": "3.0.4",
        "info": info,
        "servers": [{"url": server_url}],
        "security": [{"apiKeyAuth": []}],
        "paths": paths,
        "components": {"schemas": schemas, "securitySchemes": _SECURITY_SCHEMES},
    }


def _server_paths() -> dict[str, Any]:
    file_params = [
        {"name": "key", "in": "path", "required": True, "schema": {"type": "string"}},
        {"name": "name", "in": "path", "required": True, "schema": {"type": "string"}},
    ]
    return {
        "/files/{key}/{name}": {
            "get": {
                "summary": "Download an output or uploaded file (HTTP Range supported)",
                "security": [],
                "parameters": file_params,
                "responses": {"200": {"description": "The file"}, "206": {"description": "A byte range"}},
            }
        },
        "/storage/upload/initiate": {
            "post": {
                "summary": "Announce an upload: answers {upload_url, file_url}; PUT the bytes to upload_url",
                "responses": {"200": _json({"type": "object"})},
            }
        },
        "/storage/auth/token": {
            "post": {
                "summary": "An upload token for POST /files/upload",
                "responses": {"200": _json({"type": "object"})},
            }
        },
        "/files/upload": {
            "post": {
                "summary": "Upload raw bytes; answers {access_url}",
                "responses": {"200": _json({"type": "object"})},
            }
        },
        "/.well-known/jwks.json": {
            "get": {
                "summary": "Public keys that verify webhook signatures",
                "security": [],
                "responses": {"200": _json({"type": "object"})},
            }
        },
    }
