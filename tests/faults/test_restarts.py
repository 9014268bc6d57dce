"""SIGKILL the API server after a 200 submit, and restart the whole service mid-load (issue #3)."""

from __future__ import annotations

import http.server
import json
import threading
from pathlib import Path
from typing import Any

from openpika.jobs.model import JobStatus

from ..inputs.servers import serve
from .checks import assert_completed_once
from .conftest import store_for
from .harness import EFFECT_FRAMES, EFFECTS, Server, effect_input, service_env, start_server, wait_until

APP = "fal-ai/pika"


def submit(server: Server, body: dict[str, Any], webhook: str | None = None) -> str:
    with server.client() as client:
        params = {"fal_webhook": webhook} if webhook else None
        response = client.post(f"/{EFFECTS}", json=body, params=params)
    assert response.status_code == 200, response.text
    return str(response.json()["request_id"])


def status(server: Server, request_id: str) -> dict[str, Any]:
    with server.client() as client:
        response = client.get(f"/{APP}/requests/{request_id}/status")
    assert response.status_code in (200, 202), response.text  # fal: 202 until COMPLETED
    return dict(response.json())


def test_job_survives_sigkill_of_the_api_right_after_submit(data_dir: Path) -> None:
    env = service_env(data_dir)
    first = start_server(env, workers=1)
    try:
        request_id = submit(first, effect_input(0.3))
    finally:
        first.kill9()  # right after the 200: no graceful shutdown, no flush
    second = start_server(env, workers=1)
    try:
        wait_until(lambda: status(second, request_id)["status"] == "COMPLETED", 30, "the job to complete")
        with second.client() as client:
            result = client.get(f"/{APP}/requests/{request_id}")
        assert result.status_code == 200 and result.json()["video"]["url"]
    finally:
        second.stop()
    store = store_for(data_dir)
    try:
        assert_completed_once(store, [request_id], data_dir / "files", EFFECT_FRAMES)
    finally:
        store.close()


class Receiver:
    """A webhook receiver on loopback whose answer can be switched (503 while "down")."""

    def __init__(self) -> None:
        self.answer = 503
        self.calls: list[tuple[str, int, dict[str, str]]] = []  # (request_id, answered, headers)
        self.lock = threading.Lock()

    def handle(self, h: http.server.BaseHTTPRequestHandler) -> None:
        payload = json.loads(getattr(h, "body", b"{}") or b"{}")
        with self.lock:
            answered = self.answer
            self.calls.append((str(payload.get("request_id")), answered, dict(h.headers.items())))
        h.send_response(answered)
        h.send_header("Content-Length", "0")
        h.end_headers()

    def delivered(self) -> set[str]:
        with self.lock:
            return {rid for rid, answered, _ in self.calls if answered == 200}

    def attempted(self) -> set[str]:
        with self.lock:
            return {rid for rid, _, _ in self.calls}


def test_restart_mid_load_keeps_queue_order_and_delivers_the_outbox(data_dir: Path) -> None:
    receiver = Receiver()
    with serve({"/hook": receiver.handle}) as hooks:
        hook_url = hooks.url("/hook")
        env = service_env(data_dir, fetch_allow_private_hosts="127.0.0.1")
        first = start_server(env, workers=1)
        ids: list[str] = []
        try:
            ids = [submit(first, effect_input(0.25, tag=f"#{i}"), webhook=hook_url) for i in range(8)]
            # Mid-load: a few done (their webhooks refused with 503), one running, the rest queued.
            wait_until(lambda: len(receiver.attempted()) >= 2, 30, "the first webhooks")
        finally:
            first.kill9()

        store = store_for(data_dir)
        try:
            before = {i: store.get(i) for i in ids}
            queued = [i for i in ids if (j := before[i]) is not None and j.status is JobStatus.IN_QUEUE]
            done_before = [i for i in ids if (j := before[i]) is not None and j.status is JobStatus.COMPLETED]
            assert queued and done_before, "the kill did not land mid-load"
            # While the service is down, time passes: the outbox's 15 s retry delay runs out.
            pending = store.due_webhooks(now=1e12, limit=100)
            assert {e.request_id for e in pending} >= set(done_before)
            for entry in pending:
                store.webhook_retry(entry.id, 0.0)
        finally:
            store.close()

        receiver.answer = 200
        second = start_server(env, workers=1)
        try:
            wait_until(lambda: all(status(second, i)["status"] == "COMPLETED" for i in ids), 60, "all jobs")
            wait_until(lambda: receiver.delivered() >= set(ids), 30, "every webhook delivered")
        finally:
            second.stop()

    store = store_for(data_dir)
    try:
        jobs = assert_completed_once(store, ids, data_dir / "files", EFFECT_FRAMES)
        started = {job.id: job.started_at or 0.0 for job in jobs}
        assert [started[i] for i in queued] == sorted(started[i] for i in queued), "queue order lost"
        assert store.due_webhooks(now=1e12, limit=100) == []
    finally:
        store.close()
    signed = [headers for rid, answered, headers in receiver.calls if answered == 200]
    assert all(len(h.get("X-Fal-Webhook-Signature", "")) == 128 for h in signed)
