"""The guarded HTTP client for URLs that strangers give us (inputs) or ask us to call (webhooks).

Why not plain httpx: a URL from a request is an instruction to make *this server* open a
connection. Without a guard it reaches the loopback admin port, the LAN, or the cloud metadata
service. The guard here:

* accepts only http and https (data: URIs are decoded elsewhere, never fetched);
* resolves the host once, refuses it if any address is not public (see ``addresses``), and then
  connects to that very address: a custom httpcore network backend ignores the name at connect
  time, so a DNS answer that changes between check and use (rebinding) cannot redirect us. The
  URL keeps its host name, so the ``Host`` header and TLS SNI/certificate check stay correct;
* follows at most ``MAX_REDIRECTS`` redirects itself, re-checking every hop;
* holds an overall deadline: every connect, read and write gets the smaller of its own timeout
  and the time left, so a server that drips one byte a second still ends on time;
* counts bytes while streaming and stops at the cap (Content-Length is only a hint);
* ignores proxy environment variables (a proxy would resolve the name itself).

httpcore is used directly because httpx does not let a caller supply the network backend. The
SSRF-guard libraries we know of wrap ``requests`` (e.g. advocate), which openpika does not use, so
the guard is kept small here and attacked by ``tests/inputs`` and ``tests/security``.
"""

from __future__ import annotations

import ssl
import time
import typing
from dataclasses import dataclass
from urllib.parse import quote, urljoin, urlsplit, urlunsplit

import httpcore

from . import addresses
from .addresses import AddressRefused, IPAddress

MAX_REDIRECTS = 5
READ_TIMEOUT_SECONDS = 10.0
USER_AGENT = "openpika-fetch/1"
REDIRECT_CODES = frozenset({301, 302, 303, 307, 308})
# Characters left as they are when a URL is made ASCII (existing %-escapes survive).
_URL_SAFE = "/%:@!$&'()*+,;=~-._"


class FetchError(Exception):
    """Base of the guard's errors. ``message`` is safe to show to the caller."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DestinationRefused(FetchError):
    """The URL is not allowed (scheme, address, too many redirects). Retrying will not help."""


class FetchFailed(FetchError):
    """The transfer failed (connection, timeout, HTTP status, size cap)."""


def connect_address(address: IPAddress, port: int) -> tuple[str, int]:
    """Where a connection to an approved ``address`` really goes. The identity; tests replace it
    (monkeypatch) to send a "public" test address to a loopback server, never off the machine."""
    return str(address), port


class _DeadlineStream(httpcore.NetworkStream):
    """Wraps a stream so every operation ends by the overall deadline."""

    def __init__(self, inner: httpcore.NetworkStream, deadline: float) -> None:
        self._inner = inner
        self._deadline = deadline

    def _timeout(self, timeout: float | None) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ReadTimeout("overall deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self._inner.read(max_bytes, self._timeout(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self._inner.write(buffer, self._timeout(timeout))

    def close(self) -> None:
        self._inner.close()

    def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None, timeout: float | None = None
    ) -> httpcore.NetworkStream:
        inner = self._inner.start_tls(ssl_context, server_hostname, self._timeout(timeout))
        return _DeadlineStream(inner, self._deadline)

    def get_extra_info(self, info: str) -> typing.Any:
        return self._inner.get_extra_info(info)


class _PinnedBackend(httpcore.NetworkBackend):
    """Connects to the address the guard approved, whatever name httpcore asks for."""

    def __init__(self, host: str, address: IPAddress, deadline: float) -> None:
        self._host = host
        self._address = address
        self._deadline = deadline
        self._sync = httpcore.SyncBackend()

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        if host.strip("[]").lower() != self._host:
            raise httpcore.ConnectError(f"unexpected host {host!r}")
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise httpcore.ConnectTimeout("overall deadline passed")
        connect_host, connect_port = connect_address(self._address, port)
        stream = self._sync.connect_tcp(
            connect_host,
            connect_port,
            timeout=left if timeout is None else min(timeout, left),
            local_address=local_address,
            socket_options=socket_options,
        )
        return _DeadlineStream(stream, self._deadline)

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: typing.Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("unix sockets are not allowed")


@dataclass(frozen=True)
class GuardConfig:
    """What the guard needs from Settings (kept apart so webhooks and tests can build one)."""

    allow_private_hosts: tuple[str, ...] = ()
    timeout_seconds: float = 30.0
    read_timeout_seconds: float = READ_TIMEOUT_SECONDS
    max_bytes: int = 50 * 1024 * 1024
    max_redirects: int = MAX_REDIRECTS
    # None: the system's trusted CAs (certifi via httpcore). Tests pass a context trusting their CA.
    ssl_context: ssl.SSLContext | None = None


@dataclass(frozen=True)
class _Target:
    url: str
    host: str
    port: int
    address: IPAddress


def check_url(url: str, config: GuardConfig) -> _Target:
    """Validate scheme and host of one hop and pick the address to connect to."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise DestinationRefused(f"malformed URL: {exc}") from exc
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise DestinationRefused(f"URL scheme {scheme!r} is not allowed; use http or https")
    if parts.username is not None or parts.password is not None:
        raise DestinationRefused("URLs with credentials (user:password@host) are not allowed")
    if not parts.hostname:
        raise DestinationRefused("URL has no host")
    default_port = 443 if scheme == "https" else 80
    try:
        host = addresses.ascii_host(parts.hostname)
        address = addresses.resolve_checked(host, port or default_port, config.allow_private_hosts)
    except AddressRefused as exc:
        raise DestinationRefused(str(exc)) from exc
    # The request names the host in its ASCII (IDNA) form, the one that was checked.
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    path = quote(parts.path or "/", safe=_URL_SAFE)
    ascii_url = urlunsplit((scheme, netloc, path, quote(parts.query, safe=_URL_SAFE + "?"), ""))
    return _Target(url=ascii_url, host=host, port=port or default_port, address=address)


def _timeouts(config: GuardConfig, deadline: float) -> dict[str, float]:
    left = max(0.001, deadline - time.monotonic())
    step = min(config.read_timeout_seconds, left)
    return {"connect": step, "read": step, "write": step, "pool": step}


def _header(response: httpcore.Response, name: bytes) -> str | None:
    for key, value in response.headers:
        if key.lower() == name:
            return value.decode("latin-1")
    return None


def _request(
    method: str,
    url: str,
    config: GuardConfig,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    follow_redirects: bool,
) -> tuple[int, bytes]:
    deadline = time.monotonic() + config.timeout_seconds
    current = url
    for _hop in range(config.max_redirects + 1):
        target = check_url(current, config)
        backend = _PinnedBackend(target.host, target.address, deadline)
        request_headers = [(b"User-Agent", USER_AGENT.encode()), (b"Accept-Encoding", b"identity")]
        request_headers += [(k.encode("latin-1"), v.encode("latin-1")) for k, v in (headers or {}).items()]
        try:
            with (
                httpcore.ConnectionPool(
                    ssl_context=config.ssl_context, network_backend=backend, max_connections=1, retries=0
                ) as pool,
                pool.stream(
                    method,
                    target.url,
                    headers=request_headers,
                    content=body,
                    extensions={"timeout": _timeouts(config, deadline)},
                ) as response,
            ):
                status = response.status
                if follow_redirects and status in REDIRECT_CODES:
                    location = _header(response, b"location")
                    if not location:
                        raise FetchFailed(f"redirect {status} without a Location header")
                    current = urljoin(target.url, location)
                    if status == 303:
                        method, body = "GET", None
                    continue
                return status, _read_capped(response, config)
        except httpcore.TimeoutException as exc:
            raise FetchFailed(
                f"timed out after {config.timeout_seconds:g} s fetching {_describe(current)}"
            ) from exc
        except httpcore.ProtocolError as exc:
            raise FetchFailed(f"bad HTTP response from {_describe(current)}: {exc}") from exc
        except (httpcore.NetworkError, httpcore.UnsupportedProtocol, ssl.SSLError, OSError) as exc:
            raise FetchFailed(f"could not fetch {_describe(current)}: {exc or type(exc).__name__}") from exc
    raise DestinationRefused(f"more than {config.max_redirects} redirects")


def _read_capped(response: httpcore.Response, config: GuardConfig) -> bytes:
    declared = _header(response, b"content-length")
    if declared is not None and declared.strip().isdigit() and int(declared) > config.max_bytes:
        raise FetchFailed(f"file is {int(declared):,} bytes; the limit is {config.max_bytes:,}")
    chunks: list[bytes] = []
    total = 0
    for chunk in response.iter_stream():
        total += len(chunk)
        if total > config.max_bytes:
            raise FetchFailed(f"file is larger than the limit of {config.max_bytes:,} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _describe(url: str) -> str:
    """The URL without its query string (which may carry signed tokens) for error messages."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"[:200]


def get_bytes(url: str, config: GuardConfig) -> bytes:
    """GET ``url`` through the guard; any status other than 2xx is an error."""
    status, data = _request("GET", url, config, follow_redirects=True)
    if not 200 <= status < 300:
        raise FetchFailed(f"HTTP {status} fetching {_describe(url)}")
    return data


def post(url: str, body: bytes, headers: dict[str, str], config: GuardConfig) -> int:
    """POST through the guard without following redirects; returns the status code."""
    status, _ = _request("POST", url, config, body=body, headers=headers, follow_redirects=False)
    return status
