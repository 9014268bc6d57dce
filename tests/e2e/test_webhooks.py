"""fal-client's ``webhook_url`` end to end: the signed delivery verifies against our JWKS (fal-protocol.md §6)."""

from __future__ import annotations

import base64
import hashlib
import json
import queue
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from tests.e2e.conftest import PROGRESS_ENDPOINT, Server, run_client, small_png_data_uri

pytestmark = [pytest.mark.e2e, pytest.mark.timeout(120)]


def test_webhook_is_delivered_signed_and_verifies_with_the_jwks(server: Server) -> None:
    received: queue.Queue[tuple[dict[str, str], bytes]] = queue.Queue()

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.put(({k.lower(): v for k, v in self.headers.items()}, body))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    receiver = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    try:
        hook = f"http://127.0.0.1:{receiver.server_address[1]}/hook"
        request_id = run_client(
            server,
            f"""
handle = fal_client.submit({PROGRESS_ENDPOINT!r}, {{"image_url": {small_png_data_uri()!r}, "prompt": "p",
                           "duration": 1}}, webhook_url={hook!r})
handle.get()
out = handle.request_id
""",
        )
        headers, body = received.get(timeout=30)
    finally:
        receiver.shutdown()
    payload = json.loads(body)
    assert payload["request_id"] == request_id and payload["status"] == "OK"
    assert payload["payload"]["video"]["url"].endswith(".mp4")
    assert headers["x-fal-webhook-request-id"] == request_id
    assert abs(int(headers["x-fal-webhook-timestamp"]) - time.time()) < 300
    message = "\n".join(
        [
            request_id,
            headers["x-fal-webhook-user-id"],
            headers["x-fal-webhook-timestamp"],
            hashlib.sha256(body).hexdigest(),
        ]
    ).encode()
    keys = httpx.get(
        f"https://localhost:{server.run_port}/.well-known/jwks.json", verify=server.tls()
    ).json()["keys"]
    assert keys and all(key["kty"] == "OKP" and key["crv"] == "Ed25519" for key in keys)
    signature = bytes.fromhex(headers["x-fal-webhook-signature"])
    assert len(signature) == 64
    for key in keys:
        raw = base64.urlsafe_b64decode(key["x"] + "=" * (-len(key["x"]) % 4))
        Ed25519PublicKey.from_public_bytes(raw).verify(signature, message)  # raises if it does not verify
