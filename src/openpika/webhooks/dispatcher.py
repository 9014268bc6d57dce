"""Deliver the webhook outbox: signed POSTs with retries, surviving restarts (the outbox is in the store).

A completed job's outbox row is written in the same transaction as its result (jobs/), so a crash can
never lose a webhook; at worst one is delivered twice (crash after the POST, before ``webhook_done``),
which fal's receivers already tolerate by keying on ``request_id``.

Retries: after a failed delivery, up to ``settings.webhook_max_attempts - 1`` more, with delays of
15 s, 30 s, 1 min ... capped at 30 min (±10 % jitter): ten retries span about two hours, like fal's.
A URL the SSRF guard refuses (a private address, a bad scheme) is dropped at once: retrying cannot help.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from ..jobs.store import JobStore, OutboxEntry
from ..settings import Settings
from .signing import signer_for

logger = logging.getLogger("openpika.webhooks")

PostJson = Callable[[str, bytes, dict[str, str], Settings], int]
FIRST_RETRY_SECONDS = 15.0
MAX_RETRY_SECONDS = 1800.0


def default_backoff(failed_attempts: int) -> float:
    """Seconds to wait after the ``failed_attempts``-th failed delivery (1-based)."""
    delay = min(FIRST_RETRY_SECONDS * 2 ** (failed_attempts - 1), MAX_RETRY_SECONDS)
    return delay * random.uniform(0.9, 1.1)


class DeliveryRefused(Exception):
    """The destination may never be contacted; do not retry."""


def guarded_post(url: str, body: bytes, headers: dict[str, str], settings: Settings) -> int:
    """POST through the inputs package's SSRF guard (no redirects, deadlines, no private addresses
    unless ``settings.fetch_allow_private_hosts`` allows them)."""
    from ..inputs import DestinationRefused, post_json

    try:
        return post_json(url, body, headers, settings)
    except DestinationRefused as exc:
        raise DeliveryRefused(exc.message) from exc


class WebhookDispatcher:
    def __init__(
        self,
        settings: Settings,
        store: JobStore,
        *,
        post: PostJson = guarded_post,
        backoff: Callable[[int], float] = default_backoff,
        poll_interval: float = 0.5,
        concurrency: int = 4,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.settings, self.store = settings, store
        self._post, self._backoff, self._clock = post, backoff, clock
        self.poll_interval = poll_interval
        self._pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="openpika-webhook")
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="openpika-webhooks", daemon=True)

    def start(self) -> WebhookDispatcher:
        signer_for(self.settings)  # create the key now, not on the first delivery
        self._thread.start()
        return self

    def stop(self, timeout: float | None = 10.0) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        self._pool.shutdown(wait=True, cancel_futures=True)

    def deliver_due(self) -> int:
        """One pass: deliver every due entry (in parallel); return how many were attempted."""
        entries = self.store.due_webhooks(self._clock())
        list(self._pool.map(self._deliver, entries))
        return len(entries)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.deliver_due():
                    continue
            except Exception:
                logger.exception("webhook pass failed; retrying")
            self._stop.wait(self.poll_interval)

    def _deliver(self, entry: OutboxEntry) -> None:
        headers = signer_for(self.settings).sign(
            entry.request_id, self.settings.webhook_user_id, int(self._clock()), entry.body
        )
        attempt = entry.attempts + 1
        try:
            status = self._post(entry.url, entry.body, headers, self.settings)
        except DeliveryRefused as exc:
            logger.warning("webhook for %s dropped: %s", entry.request_id, exc)
            self.store.webhook_done(entry.id)
            return
        except Exception as exc:
            self._failed(entry, attempt, f"{type(exc).__name__}: {exc}")
            return
        if 200 <= status < 300:
            logger.info("webhook for %s delivered (HTTP %d, attempt %d)", entry.request_id, status, attempt)
            self.store.webhook_done(entry.id)
        else:
            self._failed(entry, attempt, f"HTTP {status}")

    def _failed(self, entry: OutboxEntry, attempt: int, why: str) -> None:
        if attempt >= self.settings.webhook_max_attempts:
            logger.warning(
                "webhook for %s failed %d times (last: %s); giving up", entry.request_id, attempt, why
            )
            self.store.webhook_done(entry.id)
            return
        delay = self._backoff(attempt)
        logger.info("webhook for %s failed (%s); retry %d in %.0f s", entry.request_id, why, attempt, delay)
        self.store.webhook_retry(entry.id, self._clock() + delay)


def start_dispatcher(settings: Settings, store: JobStore) -> WebhookDispatcher:
    """Start delivering ``store``'s webhook outbox in a background thread; ``.stop()`` on shutdown."""
    return WebhookDispatcher(settings, store).start()
