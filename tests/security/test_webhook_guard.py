"""Webhook delivery goes through the same SSRF guard as input fetching."""

from __future__ import annotations

import http.server
import time
from pathlib import Path

from ..inputs.servers import Handler, serve
from .conftest import EFFECTS, LiveApi, live_api, png_data_uri


def receiver() -> tuple[list[str], Handler]:
    calls: list[str] = []

    def handle(h: http.server.BaseHTTPRequestHandler) -> None:
        calls.append(h.path)
        h.send_response(200)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return calls, handle


def submit_with_webhook(api: LiveApi, hook: str) -> str:
    response = api.client.post(
        f"/{EFFECTS}", params={"fal_webhook": hook}, json={"image_url": png_data_uri(), "pikaffect": "Squish"}
    )
    assert response.status_code == 200, response.text
    request_id = str(response.json()["request_id"])
    api.wait(EFFECTS, request_id)
    return request_id


def wait_outbox_empty(api: LiveApi, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while api.store._outbox:  # the dispatcher empties it: delivered, or dropped by the guard
        assert time.monotonic() < deadline, "the webhook outbox was not processed"
        time.sleep(0.05)


def test_webhook_to_a_private_address_is_refused_at_submit(live: LiveApi) -> None:
    calls, handle = receiver()
    with serve({"/hook": handle}) as hooks:
        response = live.client.post(
            f"/{EFFECTS}",
            params={"fal_webhook": hooks.url("/hook")},
            json={"image_url": png_data_uri(), "pikaffect": "Squish"},
        )
        wait_outbox_empty(live)
    # Refused up front (loopback is not allow-listed) instead of queued and silently dropped later.
    assert response.status_code == 422, response.text
    assert response.json()["detail"][0]["loc"] == ["query", "fal_webhook"]
    assert calls == []


def test_webhook_to_an_allow_listed_host_is_delivered(tmp_path: Path) -> None:
    calls, handle = receiver()
    api_iter = live_api(tmp_path, fetch_allow_private_hosts=["127.0.0.1"])
    api = next(api_iter)
    try:
        with serve({"/hook": handle}) as hooks:
            submit_with_webhook(api, hooks.url("/hook"))
            wait_outbox_empty(api)
        assert calls == ["/hook"]
    finally:
        api_iter.close()
