"""What every route needs: settings, the job store, the file store, the key checker, timings.

Kept on ``app.state.api`` by ``create_app``; routes reach it with ``api_context(request)``.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request

from ..jobs.model import Job
from ..jobs.store import JobStore
from ..settings import Settings
from ..storage import FileStore
from .auth import KeyChecker
from .protocol import owner_alias, request_not_found

MAX_CACHED_POSITIONS = 20_000


@dataclass(frozen=True)
class ApiTuning:
    """Timings of the long-lived routes. Tests shorten them; production keeps the defaults."""

    poll_interval: float = 0.2  # how often SSE streams and waiting runs look at the store
    sse_ping_interval: float = 15.0  # fal sends ": ping" about every 15 s
    housekeeping_interval: float = 0.5  # start-deadline expiry (status reads also check it)
    max_body_bytes: int | None = None  # default: settings.max_data_uri_chars + 1 MiB
    # A queued job's position is a COUNT over the queue ahead of it: O(queue length) in SQLite,
    # ~2 ms at 8,000 queued jobs. Status polls reuse a position this recent (fal's Python client
    # polls every 0.1 s); a position may lag by this much. 0 disables the cache.
    queue_position_ttl: float = 1.0


@dataclass
class ApiContext:
    settings: Settings
    store: JobStore
    files: FileStore
    keys: KeyChecker
    tuning: ApiTuning = field(default_factory=ApiTuning)
    # Uploads announced by /storage/upload/initiate and not yet PUT: token -> details.
    pending_uploads: dict[str, dict[str, Any]] = field(default_factory=dict)

    _positions: dict[str, tuple[int, float]] = field(default_factory=dict)

    def queue_position(self, request_id: str) -> int:
        """A queued job's 0-based position, at most ``tuning.queue_position_ttl`` seconds old."""
        now = time.monotonic()
        cached = self._positions.get(request_id)
        if cached is not None and now - cached[1] < self.tuning.queue_position_ttl:
            return cached[0]
        position = self.store.queue_position(request_id) or 0
        if self.tuning.queue_position_ttl > 0:
            if len(self._positions) > MAX_CACHED_POSITIONS:
                self._positions = {
                    key: value
                    for key, value in self._positions.items()
                    if now - value[1] < self.tuning.queue_position_ttl
                }
            self._positions[request_id] = (position, now)
        return position

    @property
    def max_body_bytes(self) -> int:
        return self.tuning.max_body_bytes or self.settings.max_data_uri_chars + (1 << 20)

    def files_base(self, request: Request) -> str:
        """Where this server's ``/files/...`` are reachable for the caller: ``public_url`` if set,
        else the base the request came in on (including a /queue or /run prefix)."""
        return str(self.settings.public_url or request.state.public_base).rstrip("/")

    def read_job(self, request_id: str) -> Job | None:
        """The job as status, result and cancel need it. Those never use the input, which may be a
        50 MB data URI: a store that can skip decoding it offers ``peek(request_id)`` (same Job,
        ``input`` left empty); other stores fall back to ``get``."""
        peek = getattr(self.store, "peek", None)
        job: Job | None = peek(request_id) if peek is not None else self.store.get(request_id)
        return job

    def find_job(self, request: Request) -> Job:
        """The caller's own job addressed by the route's ``{owner}/{alias}/requests/{request_id}``,
        else 404.

        Another key's job is reported as not found, not forbidden: ids are not confirmed to
        strangers.
        """
        owner = self.keys.owner(request)
        params = request.path_params
        app_path = f"{params['owner']}/{params['alias']}"
        job = self.read_job(params["request_id"])
        if job is None or job.owner != owner or owner_alias(job.endpoint_id) != app_path:
            raise request_not_found()
        request.state.request_id = job.id
        return job


def api_context(request: Request) -> ApiContext:
    context: ApiContext = request.app.state.api
    return context
