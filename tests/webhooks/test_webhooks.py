"""Webhook signing (checked with an independent verifier built from the JWKS) and outbox delivery
to a real HTTP receiver on 127.0.0.1 through the SSRF-guarded client."""

from __future__ import annotations

import base64
import hashlib
import itertools
import json
import stat
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from openpika.jobs import NewJob
from openpika.jobs.memory import MemoryJobStore
from openpika.jobs.sqlite import SQLiteJobStore
from openpika.jobs.store import JobStore
from openpika.settings import Settings
from openpika.webhooks import WebhookDispatcher, default_backoff, jwks, sign
from openpika.webhooks import signing as signing_module
from openpika.webhooks.signing import KEY_FILE_NAME, load_or_create_key


def verify_like_a_receiver(document: dict[str, Any], headers: dict[str, str], body: bytes) -> bool:
    """What fal's documented receivers do, written from the protocol notes, not from our signer."""
    lower = {k.lower(): v for k, v in headers.items()}
    if abs(time.time() - int(lower["x-fal-webhook-timestamp"])) > 300:
        return False
    message = "\n".join(
        [
            lower["x-fal-webhook-request-id"],
            lower["x-fal-webhook-user-id"],
            lower["x-fal-webhook-timestamp"],
            hashlib.sha256(body).hexdigest(),
        ]
    ).encode()
    signature = bytes.fromhex(lower["x-fal-webhook-signature"])
    for key in document["keys"]:
        raw = base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4))
        try:
            Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)
            return True
        except InvalidSignature:
            continue
    return False


@dataclass
class Receiver:
    url: str
    responses: list[int]  # status per request; the last one repeats
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box = Receiver(url="", responses=[200])

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            box.requests.append((dict(self.headers.items()), body))
            index = min(len(box.requests), len(box.responses)) - 1
            self.send_response(box.responses[index])
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    box.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/pika"
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    # The receiver is on loopback: allow it explicitly, as an operator would for a LAN receiver.
    return Settings(
        data_dir=tmp_path / "data", fetch_allow_private_hosts=["127.0.0.1"], webhook_max_attempts=4
    )


def finish_job(store: JobStore, webhook_url: str, output: dict[str, Any] | None = None) -> str:
    request_id = store.enqueue(
        NewJob(endpoint_id="fal-ai/pika/v2.2/text-to-video", input={}, webhook_url=webhook_url)
    ).id
    job = store.claim("w", 30, 3)
    assert job is not None and job.id == request_id
    assert store.complete(
        request_id, job.attempt, output or {"video": {"url": "http://h/files/k/output.mp4"}}
    )
    return request_id


def test_key_is_made_once_kept_private_and_reused_after_a_restart(settings: Settings) -> None:
    document = jwks(settings)
    (key,) = document["keys"]
    assert key["kty"] == "OKP" and key["crv"] == "Ed25519" and key["kid"]
    assert len(base64.urlsafe_b64decode(key["x"] + "=")) == 32
    path = settings.data_dir / KEY_FILE_NAME
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    signing_module._cache.clear()  # a new process
    assert jwks(settings) == document


def test_concurrent_first_starts_agree_on_one_key(tmp_path: Path) -> None:
    path = tmp_path / "k" / KEY_FILE_NAME
    keys: list[bytes] = []

    def start() -> None:
        key = load_or_create_key(path)
        keys.append(key.public_key().public_bytes_raw())

    threads = [threading.Thread(target=start) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(keys) == 6 and len(set(keys)) == 1
    assert [p.name for p in path.parent.iterdir()] == [KEY_FILE_NAME]  # no temp files left


def test_signature_verifies_with_the_jwks_and_breaks_on_tampering(settings: Settings) -> None:
    body = b'{"request_id":"r1","status":"OK","payload":{}}'
    headers = sign(settings, "r1", "openpika", int(time.time()), body)
    assert set(headers) == {
        "X-Fal-Webhook-Request-Id",
        "X-Fal-Webhook-User-Id",
        "X-Fal-Webhook-Timestamp",
        "X-Fal-Webhook-Signature",
    }
    assert len(headers["X-Fal-Webhook-Signature"]) == 128
    int(headers["X-Fal-Webhook-Signature"], 16)
    document = jwks(settings)
    assert verify_like_a_receiver(document, headers, body)
    assert not verify_like_a_receiver(document, headers, body + b" ")
    assert not verify_like_a_receiver(document, {**headers, "X-Fal-Webhook-Request-Id": "r2"}, body)
    stale = sign(settings, "r1", "openpika", int(time.time()) - 600, body)
    assert not verify_like_a_receiver(document, stale, body)


def test_delivery_reaches_the_receiver_signed(settings: Settings, receiver: Receiver) -> None:
    store = MemoryJobStore()
    request_id = finish_job(store, receiver.url)
    dispatcher = WebhookDispatcher(settings, store)
    assert dispatcher.deliver_due() == 1
    ((headers, body),) = receiver.requests
    assert verify_like_a_receiver(jwks(settings), headers, body)
    assert headers["X-Fal-Webhook-Request-Id"] == request_id
    assert headers["X-Fal-Webhook-User-Id"] == "openpika"
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "request_id": request_id,
        "gateway_request_id": request_id,
        "status": "OK",
        "payload": {"video": {"url": "http://h/files/k/output.mp4"}},
    }
    assert store.due_webhooks(time.time() + 10_000) == []  # done: never sent again


def test_failing_receiver_is_retried_until_it_accepts(settings: Settings, receiver: Receiver) -> None:
    receiver.responses = [500, 503, 200]
    store = MemoryJobStore()
    finish_job(store, receiver.url)
    dispatcher = WebhookDispatcher(settings, store, backoff=lambda n: 0.05 * n, poll_interval=0.02).start()
    try:
        deadline = time.monotonic() + 10
        while len(receiver.requests) < 3 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.3)  # long enough for a wrongly scheduled fourth delivery to show up
    finally:
        dispatcher.stop()
    assert len(receiver.requests) == 3
    assert all(verify_like_a_receiver(jwks(settings), h, b) for h, b in receiver.requests)
    assert len({b for _, b in receiver.requests}) == 1  # the same body every time
    assert store.due_webhooks(time.time() + 10_000) == []


def test_delivery_gives_up_after_max_attempts(settings: Settings, receiver: Receiver) -> None:
    receiver.responses = [500]
    store = MemoryJobStore()
    finish_job(store, receiver.url)
    dispatcher = WebhookDispatcher(settings, store, backoff=lambda n: 0.0)
    for _ in range(10):
        dispatcher.deliver_due()
    assert len(receiver.requests) == settings.webhook_max_attempts == 4
    assert store.due_webhooks(time.time() + 10_000) == []


def test_private_destination_is_refused_without_retries(tmp_path: Path, receiver: Receiver) -> None:
    guarded = Settings(data_dir=tmp_path / "data")  # loopback not allowed
    store = MemoryJobStore()
    finish_job(store, receiver.url)
    WebhookDispatcher(guarded, store, backoff=lambda n: 0.0).deliver_due()
    assert receiver.requests == []
    assert store.due_webhooks(time.time() + 10_000) == []


def test_outbox_survives_a_restart_even_mid_delivery(
    settings: Settings, receiver: Receiver, tmp_path: Path
) -> None:
    db_path = tmp_path / "jobs.db"
    before = SQLiteJobStore(db_path)
    request_id = finish_job(before, receiver.url)
    assert len(before.due_webhooks(time.time())) == 1  # a dispatcher took it... and then the process died
    before.close()

    after = SQLiteJobStore(db_path)
    try:
        assert WebhookDispatcher(settings, after).deliver_due() == 0  # still leased to the dead dispatcher
        later = WebhookDispatcher(settings, after, clock=lambda: time.time() + 300)
        assert later.deliver_due() == 1
    finally:
        after.close()
    ((headers, _),) = receiver.requests
    assert headers["X-Fal-Webhook-Request-Id"] == request_id


def test_default_backoff_spreads_ten_retries_over_about_two_hours() -> None:
    delays = [default_backoff(n) for n in range(1, 11)]
    assert 12 <= delays[0] <= 18
    assert all(later >= earlier * 0.8 for earlier, later in itertools.pairwise(delays))
    assert 1.7 * 3600 <= sum(delays) <= 2.4 * 3600
