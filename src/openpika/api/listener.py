"""Which of fal's hosts a request was meant for, decided before routing.

fal serves a synchronous run and a queue submit on the *same path* (``POST /{endpoint_id}``); only
the host tells them apart (``fal.run`` vs ``queue.fal.run``). openpika answers both from one app and
tells them apart, in this order:

1. ``x-fal-target-url`` (the JS client's proxy mode): the host, path and query of that URL decide.
   A host starting with ``queue.`` means queue semantics, ``rest.``/``v3.`` hosts mean storage, any
   other host means run.
2. A path prefix ``/queue/...`` or ``/run/...``: lets a single port (or a reverse proxy) serve both.
3. The local port the connection arrived on: ``settings.port`` is the run listener, anything else
   (normally ``settings.resolved_queue_port()``) is the queue listener.

This pure ASGI middleware records the answer in ``scope["state"]`` (``request.state.listener`` and
``request.state.queue_base``/``run_base``/``public_base``), strips trailing slashes (fal's SDK asks
for ``…/status/``), and stamps ``x-fal-request-id`` on every response that lacks one.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..jobs.model import new_request_id

Listener = Literal["queue", "run"]
TARGET_URL_HEADER = b"x-fal-target-url"
REQUEST_ID_HEADER = b"x-fal-request-id"


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return None


def _own_base(scope: Scope) -> str:
    """scheme://host[:port] as the caller addressed this server (the Host header wins)."""
    scheme = scope.get("scheme", "http")
    host = _header(scope, b"host")
    if not host:
        server = scope.get("server") or ("localhost", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scheme}://{host}"


def _with_port(base: str, port: int) -> str:
    parts = urlsplit(base)
    host = parts.hostname or "localhost"
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{parts.scheme}://{host}:{port}"


class ListenerMiddleware:
    def __init__(self, app: ASGIApp, *, run_port: int, queue_port: int) -> None:
        self.app = app
        self.run_port = run_port
        self.queue_port = queue_port

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        scope = dict(scope)
        state: dict[str, Any] = dict(scope.get("state") or {})
        scope["state"] = state
        self._classify(scope, state)
        path = scope["path"]
        if len(path) > 1 and path.endswith("/"):
            scope["path"] = path.rstrip("/") or "/"
            scope["raw_path"] = scope["path"].encode()
        await self.app(scope, receive, self._stamping_send(send, state))

    def _classify(self, scope: Scope, state: dict[str, Any]) -> None:
        own_base = _own_base(scope)
        state["public_base"] = own_base  # where this server's own routes (files) are reachable
        target = _header(scope, TARGET_URL_HEADER)
        if target:
            parts = urlsplit(target)
            host = parts.hostname or ""
            state["listener"] = "queue" if host.startswith("queue.") else "run"
            state["proxied"] = True
            scope["path"] = parts.path or "/"
            scope["raw_path"] = scope["path"].encode()
            scope["query_string"] = parts.query.encode()
            # URLs we hand back must be ones the JS client would have built itself.
            base = f"{parts.scheme or 'https'}://{parts.netloc}"
            state["queue_base"] = base
            state["run_base"] = base
            return
        path: str = scope["path"]
        for prefix, listener in (("/queue", "queue"), ("/run", "run")):
            if path == prefix or path.startswith(prefix + "/"):
                state["listener"] = listener
                scope["path"] = path[len(prefix) :] or "/"
                scope["raw_path"] = scope["path"].encode()
                state["public_base"] = own_base + prefix
                state["queue_base"] = own_base + "/queue"
                state["run_base"] = own_base + "/run"
                return
        server = scope.get("server") or ("", 0)
        listener = "run" if server[1] == self.run_port and self.run_port != self.queue_port else "queue"
        state["listener"] = listener
        state[f"{listener}_base"] = own_base
        # The other listener's base: same host, the other port.
        other: Listener = "queue" if listener == "run" else "run"
        other_port = self.queue_port if other == "queue" else self.run_port
        state[f"{other}_base"] = _with_port(own_base, other_port)

    @staticmethod
    def _stamping_send(send: Send, state: dict[str, Any]) -> Send:
        async def stamped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(key.lower() == REQUEST_ID_HEADER for key, _ in headers):
                    request_id = state.get("request_id") or new_request_id()
                    headers.append((REQUEST_ID_HEADER, str(request_id).encode()))
                    message = {**message, "headers": headers}
            await send(message)

        return stamped
