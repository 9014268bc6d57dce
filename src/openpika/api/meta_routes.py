"""Routes about the server rather than requests: health, OpenAPI documents, webhook JWKS."""

from __future__ import annotations

from importlib import resources
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from .context import api_context
from .openapi import openapi_document
from .protocol import json_response, path_not_found


async def health(request: Request) -> Response:
    return json_response({"status": "ok"})


async def playground(request: Request) -> Response:
    """A small page that drives the public API from a browser (``openpika/playground/``)."""
    page = resources.files("openpika.playground").joinpath("index.html").read_bytes()
    return Response(page, media_type="text/html; charset=utf-8")


async def jwks(request: Request) -> Response:
    """Public, like fal's: receivers verify webhook signatures with these keys."""
    document: dict[str, Any] = {"keys": []}
    try:
        from ..webhooks import jwks as build_jwks

        document = build_jwks(api_context(request).settings)
    except ImportError:
        pass
    return json_response(document, headers={"cache-control": "public, max-age=3600"})


def _queue_server(request: Request) -> str:
    return str(request.state.queue_base)


async def openapi(request: Request) -> Response:
    """The whole API, or fal's per-endpoint form with ``?endpoint_id=fal-ai/pika/v2.2/pikaframes``."""
    endpoint_id = request.query_params.get("endpoint_id")
    document = openapi_document(endpoint_id, _queue_server(request))
    if document is None:
        raise path_not_found(f"/openapi.json?endpoint_id={endpoint_id}")
    return json_response(document)


async def endpoint_openapi(request: Request) -> Response:
    endpoint_path: str = request.path_params["endpoint_path"]
    document = openapi_document(endpoint_path, _queue_server(request))
    if document is None:
        raise path_not_found(request.url.path)
    return json_response(document)


ROUTES = [
    Route("/", playground, methods=["GET"]),
    Route("/playground", playground, methods=["GET"]),
    Route("/health", health, methods=["GET"]),
    Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    Route("/openapi.json", openapi, methods=["GET"]),
    Route("/{endpoint_path:path}/openapi.json", endpoint_openapi, methods=["GET"]),
]
