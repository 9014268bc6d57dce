"""Tiny loopback HTTP servers that misbehave on purpose, for the fetch guard's tests."""

from __future__ import annotations

import http.server
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

Handler = Callable[[http.server.BaseHTTPRequestHandler], None]


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    routes: dict[str, Handler]
    seen: list[dict[str, str]]

    def _dispatch(self) -> None:
        self.seen.append({"path": self.path, "host": self.headers.get("Host", ""), "method": self.command})
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        route = self.routes.get(self.path.split("?", 1)[0])
        if route is None:
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        route(self)

    do_GET = _dispatch
    do_POST = _dispatch

    def log_message(self, *args: object) -> None:
        pass


class LoopbackServer:
    def __init__(self, routes: dict[str, Handler]) -> None:
        self.seen: list[dict[str, str]] = []
        handler = type("Handler", (_Handler,), {"routes": routes, "seen": self.seen})
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@contextmanager
def serve(routes: dict[str, Handler]) -> Iterator[LoopbackServer]:
    server = LoopbackServer(routes)
    server.thread.start()
    try:
        yield server
    finally:
        server.httpd.shutdown()
        server.httpd.server_close()


def body(data: bytes, content_type: str = "application/octet-stream", status: int = 200) -> Handler:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Content-Type", content_type)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        h.wfile.write(data)

    return handle


def redirect(location: str, status: int = 302) -> Handler:
    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(status)
        h.send_header("Location", location)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handle


def drip(interval: float, total: int) -> Handler:
    """A slow server: headers at once, then one byte every ``interval`` seconds."""

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Length", str(total))
        h.end_headers()
        h.wfile.flush()
        try:
            for _ in range(total):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass

    return handle


def drip_headers(interval: float) -> Handler:
    """A slower server: even the status line and headers arrive one byte at a time."""

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        head = b"HTTP/1.1 200 OK\r\n" + b"X-Pad: " + b"a" * 200 + b"\r\nContent-Length: 1\r\n\r\nx"
        try:
            for byte in head:
                h.wfile.write(bytes([byte]))
                h.wfile.flush()
                time.sleep(interval)
        except OSError:
            pass
        h.close_connection = True

    return handle


def unbounded(chunk: bytes, count: int) -> Handler:
    """A body with no Content-Length (the connection close ends it), far larger than the cap."""

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Connection", "close")
        h.end_headers()
        try:
            for _ in range(count):
                h.wfile.write(chunk)
        except OSError:
            pass
        h.close_connection = True

    return handle


def chunked_forever(chunk: bytes, count: int) -> Handler:
    """A chunked body (no Content-Length) far larger than the cap."""

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Transfer-Encoding", "chunked")
        h.end_headers()
        try:
            for _ in range(count):
                h.wfile.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
            h.wfile.write(b"0\r\n\r\n")
        except OSError:
            pass

    return handle


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
