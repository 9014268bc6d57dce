"""The FastAPI app: fal's queue and run protocol, file serving and uploads, OpenAPI, JWKS.

One app serves both of fal's hosts; ``listener.py`` decides per request whether it was meant for
the run host (fal.run) or the queue host (queue.fal.run). ``openpika serve`` binds it to two ports.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from ..endpoints import get_endpoint
from ..settings import Settings
from . import endpoint_routes, files_routes, meta_routes, queue_routes
from .auth import KeyChecker
from .context import ApiContext, ApiTuning
from .listener import ListenerMiddleware
from .protocol import ApiError, json_response

log = logging.getLogger("openpika.api")


def create_app(
    settings: Settings,
    store: Any = None,
    files: Any = None,
    start_workers: bool = True,
    tuning: ApiTuning | None = None,
) -> FastAPI:
    """Build the app. ``store``/``files`` default to the configured backends; with
    ``start_workers`` the app runs ``settings.workers`` in-process workers while it is up."""
    if store is None:
        from ..jobs import open_store

        store = open_store(settings)
    if files is None:
        from ..storage import open_file_store

        files = open_file_store(settings)
    context = ApiContext(settings, store, files, KeyChecker(settings.api_keys), tuning or ApiTuning())

    app = FastAPI(
        title="openpika",
        version="0.1.0",
        openapi_url=None,  # our own, describing fal's protocol: meta_routes.openapi
        docs_url=None,
        redoc_url=None,
        lifespan=_lifespan(context, start_workers),
        **_no_telemetry(),
    )
    app.state.api = context
    app.add_middleware(ListenerMiddleware, run_port=settings.port, queue_port=settings.resolved_queue_port())
    _install_error_handlers(app)
    # Plain Starlette routes: FastAPI's per-request dependency solving and included-router
    # matching cost more than the handlers. The hot request routes go first; the catch-all
    # POST /{endpoint_id} must come last.
    app.router.routes.extend(
        [*queue_routes.ROUTES, *files_routes.ROUTES, *meta_routes.ROUTES, *endpoint_routes.ROUTES]
    )
    return app


def _no_telemetry() -> dict[str, Any]:
    """Recent FastAPI checks OpenTelemetry providers (and the environment) on every request unless
    told not to: measurable on the status hot path. Older FastAPI has no such option."""
    if "telemetry" not in inspect.signature(FastAPI.__init__).parameters:
        return {}
    return {"telemetry": {"tracing": False, "metrics": False, "logs": False}}


def _install_error_handlers(app: FastAPI) -> None:
    async def api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return json_response(exc.body, exc.status_code, exc.headers)

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        # The catch-all POST /{endpoint_id} makes every unknown GET a 405; fal says 404 there.
        unknown = exc.status_code == 405 and get_endpoint(request.url.path) is None
        if exc.status_code == 404 or unknown:
            return json_response({"detail": f"Path {request.url.path} not found"}, 404)
        return json_response({"detail": exc.detail}, exc.status_code, dict(exc.headers or {}))

    async def request_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return json_response({"detail": list(exc.errors())}, 422, {"x-fal-billable-units": "0"})

    async def unhandled(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        request_id = getattr(request.state, "request_id", None)
        headers = {"x-fal-request-id": request_id} if request_id else {}
        return json_response({"detail": "Internal Server Error"}, 500, headers)

    app.add_exception_handler(ApiError, api_error)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(RequestValidationError, request_validation_error)
    app.add_exception_handler(Exception, unhandled)


def _lifespan(context: ApiContext, start_workers: bool) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        settings = context.settings
        if not context.keys.enabled:
            log.warning(
                "No API keys configured (OPENPIKA_API_KEYS): serving WITHOUT authentication. "
                "Only bind this server to loopback (the default host is 127.0.0.1 in this case)."
            )
        workers = None
        if start_workers and settings.workers > 0:
            from ..worker import start_in_process_workers

            workers = start_in_process_workers(settings, context.store, context.files, settings.workers)
        dispatcher = _start_webhooks(context)
        housekeeping = asyncio.create_task(_housekeeping(context))
        try:
            yield
        finally:
            housekeeping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await housekeeping
            for handle in (dispatcher, workers):
                if handle is not None:
                    await asyncio.to_thread(handle.stop)

    return lifespan


def _start_webhooks(context: ApiContext) -> Any:
    """The webhook dispatcher, when the webhooks package provides one."""
    try:
        from ..webhooks import start_dispatcher
    except ImportError:
        log.warning("openpika.webhooks.start_dispatcher is missing: webhooks will not be delivered")
        return None
    return start_dispatcher(context.settings, context.store)


async def _housekeeping(context: ApiContext) -> None:
    """Start deadlines must fire even when this process runs no worker (``--no-worker``) and every
    worker elsewhere is busy: their 504 is the point. Expiry is idempotent, so running it beside
    the workers' own janitors is safe. (Retention purges are the janitors' job.)"""
    while True:
        try:
            # Off the event loop: with thousands of queued jobs the scan takes milliseconds.
            await asyncio.to_thread(context.store.expire_start_deadlines)
        except Exception:
            log.exception("start-deadline expiry failed; retrying")
        await asyncio.sleep(context.tuning.housekeeping_interval)
