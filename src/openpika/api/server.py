"""Serving one app on two listeners (run port and queue port) from one process and one event loop.

A single ``uvicorn.Server`` is given two pre-bound sockets: one lifespan (so workers start once),
one TLS configuration, and the ASGI scope's ``server`` tuple tells the app which port a request
arrived on. Sockets are bound before the app is built so that port 0 (any free port) works.
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from .tls import TlsFiles


def bind_socket(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError:
        sock.close()
        raise
    sock.set_inheritable(True)
    return sock


def bound_port(sock: socket.socket) -> int:
    return int(sock.getsockname()[1])


def uvicorn_config(app: Any, tls: TlsFiles | None, log_level: str = "warning") -> uvicorn.Config:
    return uvicorn.Config(
        app,
        lifespan="on",
        log_level=log_level,
        access_log=False,
        ssl_certfile=str(tls.cert) if tls else None,
        ssl_keyfile=str(tls.key) if tls else None,
        timeout_keep_alive=30,
        # Long result downloads and SSE streams must not be cut by a graceful-shutdown wait.
        timeout_graceful_shutdown=5,
    )


def serve_forever(
    app: Any, sockets: list[socket.socket], tls: TlsFiles | None, log_level: str = "warning"
) -> None:
    """Blocks until SIGINT/SIGTERM."""
    server = uvicorn.Server(uvicorn_config(app, tls, log_level))
    server.run(sockets=sockets)


@dataclass
class BackgroundServer:
    """A server in a thread (``openpika run`` without ``--url``, tests)."""

    server: uvicorn.Server
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=15)


def serve_in_thread(
    app: Any, sockets: list[socket.socket], tls: TlsFiles | None = None, startup_timeout: float = 30.0
) -> BackgroundServer:
    server = uvicorn.Server(uvicorn_config(app, tls))
    # uvicorn installs signal handlers only in the main thread, so a thread is safe here.
    thread = threading.Thread(
        target=server.run, kwargs={"sockets": sockets}, daemon=True, name="openpika-api"
    )
    thread.start()
    deadline = time.monotonic() + startup_timeout
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the embedded openpika server did not start")
        time.sleep(0.02)
    return BackgroundServer(server, thread)
